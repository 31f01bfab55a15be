"""`hiretext worker`: background task workers (sending, retries, notifications).

`--processes` worker processes (HIRETEXT_WORKERS), each running `--threads` task loops
(HIRETEXT_WORKER_THREADS). A task mostly waits on a carrier's or mail server's network
round trip, so threads multiply what one process delivers: measured with a 50 ms carrier,
one loop delivers under 20 messages/s and sixteen several hundred (BENCHMARKS.md). Every
loop claims its task with SKIP LOCKED, so workers on many machines share one queue. Each
process also runs the reply-e-mail notifier (`inbox.services.send_reply_emails`), which
claims its notices the same way, and the housekeeping (`housekeeping`): every
HIRETEXT_HOUSEKEEPING_SECONDS (an hour), this month's number charges and the pruning of
old live-update events. Both are idempotent, so several processes may run them.
"""

import logging
import os
import random
import signal
import subprocess
import sys
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, connections
from django.utils.crypto import get_random_string

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 3600.0


def default_threads() -> int:
    configured = int(os.environ.get("HIRETEXT_WORKER_THREADS", "0") or 0)
    if configured > 0:
        return configured
    # A send holds no lock during the carrier call (messaging.services.deliver), so on
    # SQLite too the loops wait on the carrier side by side, taking the single write lock
    # only for their short claim and receipt transactions.
    return 16


class Command(BaseCommand):
    help = "Run task worker processes, each with several task loops (README: Running at scale)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--processes", type=int, default=int(os.environ.get("HIRETEXT_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=0, help="default: HIRETEXT_WORKER_THREADS"
        )
        parser.add_argument("--interval", type=float, default=0.2, help="idle poll, seconds")
        parser.add_argument("--queue", default="*", help="queue names, comma-separated; * = all")

    def handle(self, *args: Any, **options: Any) -> None:
        threads = options["threads"] if options["threads"] > 0 else default_threads()
        if options["processes"] <= 1:
            self.run_loops(threads, options["interval"], options["queue"].split(","))
            return
        cmd = [
            sys.executable,
            "-m",
            "hiretext",
            "worker",
            "--processes",
            "1",
            "--threads",
            str(threads),
            "--interval",
            str(options["interval"]),
            "--queue",
            options["queue"],
        ]
        procs = [subprocess.Popen(cmd) for _ in range(options["processes"])]  # noqa: S603

        def stop(*_: object) -> None:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        try:
            for proc in procs:
                proc.wait()
        except KeyboardInterrupt:
            stop()

    def run_loops(self, count: int, interval: float, queues: list[str]) -> None:
        """`count` task loops in this process; SIGTERM lets each finish its task."""
        from hiretext.lib.task_worker import Worker

        workers = [
            Worker(
                queue_names=queues,
                interval=interval,
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=get_random_string(32),
                excluded_queue_names=[],
            )
            for _ in range(max(1, count))
        ]

        def loop(worker: Any) -> None:
            try:
                worker.run()
            finally:
                connections.close_all()  # this thread's own connections

        stopping = threading.Event()

        def stop(*_: object) -> None:
            stopping.set()
            for worker in workers:
                worker.running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        connection.close()
        threads = [
            threading.Thread(target=loop, args=(w,), name=f"task-loop-{i}")
            for i, w in enumerate(workers)
        ]
        threads.append(
            threading.Thread(target=notify_replies, args=(stopping, interval), name="notifier")
        )
        every = float(os.environ.get("HIRETEXT_HOUSEKEEPING_SECONDS", HOUSEKEEPING_SECONDS))
        if every > 0:
            threads.append(
                threading.Thread(target=housekeeping, args=(stopping, every), name="housekeeping")
            )
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)  # wakes up so signals are handled promptly


def notify_replies(stopping: threading.Event, interval: float) -> None:
    """The reply-e-mail notifier: send what received messages left to send, until stopped."""
    from hiretext.inbox.models import ReplyNotice
    from hiretext.inbox.services import REPLY_NOTICE_BATCH, send_reply_emails

    try:
        while not stopping.is_set():
            handled = 0
            try:
                # A read first: an idle notifier never takes SQLite's write lock.
                if ReplyNotice.objects.exists():
                    handled = send_reply_emails()
            except Exception:
                log.exception("The reply-e-mail notifier failed; it tries again")
                connections.close_all()
            if handled < REPLY_NOTICE_BATCH:
                stopping.wait(interval)
    finally:
        connections.close_all()  # this thread's own connections


def housekeep() -> dict[str, int]:
    """One round: record this month's number charges (and any month missed), and delete
    live-update events past HIRETEXT_EVENTS_KEEP_HOURS. What each did."""
    from hiretext.inbox.services import prune_events
    from hiretext.numbers.services import charge_monthly

    done = {}
    for name, job in (("charges", charge_monthly), ("events_pruned", prune_events)):
        try:
            done[name] = job()
        except Exception:
            log.exception("Housekeeping: %s failed; it runs again next round", name)
            connections.close_all()
    return done


def housekeeping(stopping: threading.Event, every: float) -> None:
    """`housekeep` every `every` seconds until stopped; the first round a little after the
    start, spread so that processes started together do not all run it at once."""
    try:
        while not stopping.wait(every * random.uniform(0.05, 0.15)):  # noqa: S311 - spreading
            done = housekeep()
            if any(done.values()):
                log.info("Housekeeping: %s", done)
            if stopping.wait(every * random.uniform(0.85, 0.95)):  # noqa: S311 - spreading
                return
    finally:
        connections.close_all()  # this thread's own connections
