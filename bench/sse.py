"""5. Inbound webhook → Server-Sent Event at a connected client: delivery latency.

`hiretext serve` takes the webhooks, `hiretext serve_events` (ASGI) holds one stream per
user; a webhook is posted every 50 ms (one at a time, so latency is not queueing) and
the time until each stream of the number's users shows its event is recorded. Every
event must reach every user of the number exactly once.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from bench import fixtures, signing
from bench.core import Context, Unavailable, fail
from bench.inbox import session_cookie
from bench.load import pct
from bench.server import Server, launch, running, serving
from bench.summary import verdict

GOAL_P99_MS = 250.0


def _start_events(ctx: Context, workers: int) -> Server:
    return launch(
        ctx.env,
        ["serve_events", "--workers", str(workers)],
        log_name="events.log",
        extra_env={"HIRETEXT_ACCESS_LOG": "/dev/null"},
        stop_timeout=15,
    )


def prestart_events(ctx: Context, workers: int = 1) -> None:
    """Smoke mode: boot the shared event server now, while other benchmarks run."""
    assert ctx.env.shared is not None
    if ("events", workers) not in ctx.env.shared:
        ctx.env.shared[("events", workers)] = _start_events(ctx, workers)


@contextlib.contextmanager
def serving_events(ctx: Context, workers: int = 1) -> Iterator[int]:
    """`hiretext serve_events` (the ASGI stream server); yields its port."""
    with running(ctx.env, ("events", workers), lambda: _start_events(ctx, workers)) as port:
        yield port


class Stream(threading.Thread):
    """One browser's event stream: records when each message event arrives."""

    def __init__(self, port: int, cookie: str) -> None:
        super().__init__(daemon=True)
        self.port, self.cookie = port, cookie
        self.arrivals: dict[int, list[float]] = defaultdict(list)
        self.ready = threading.Event()
        self.stopping = False
        self.sock: socket.socket | None = None

    def run(self) -> None:
        sock = self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        sock.sendall(
            (
                "GET /inbox/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Cookie: {self.cookie}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        buffer = b""
        with contextlib.suppress(OSError):
            while not self.stopping:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                now = time.monotonic()
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if not line.startswith(b"data: "):
                        continue
                    with contextlib.suppress(ValueError):
                        data = json.loads(line[6:])
                        if data.get("kind") == "state":
                            self.ready.set()
                        elif data.get("kind") == "message" and data.get("message_id"):
                            self.arrivals[int(data["message_id"])].append(now)

    def stop(self) -> None:
        self.stopping = True
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)


def arrived(streams: list[Stream]) -> int:
    return sum(len(times) for stream in streams for times in list(stream.arrivals.values()))


def run(ctx: Context, workers: int) -> dict[str, Any]:
    from django.apps import apps
    from django.core.management import get_commands
    from django.db import connection

    if not apps.is_installed("hiretext.inbox") or "serve_events" not in get_commands():
        raise Unavailable("the inbox's event stream has not landed")
    org = fixtures.seed_org(seats=2, people=100, label="sse")
    cookies = [session_cookie(u) for u in org.users]
    connection.close()
    count = 12 if ctx.smoke else 300
    requests, ids = signing.inbound_stream(
        f"E{org.org_id}",
        count,
        [(org.phones[k], org.numbers[k % 2][1]) for k in range(len(org.phones))],
        redeliver=0.0,
        seed=5,
    )
    sent_at: dict[str, float] = {}
    with serving(ctx.env, workers) as port, serving_events(ctx) as events_port:
        streams = [Stream(events_port, cookie) for cookie in cookies]
        for stream in streams:
            stream.start()
        for stream in streams:
            if not stream.ready.wait(20):
                fail("sse: a stream did not open")
        for k, (request, message_id) in enumerate(zip(requests, ids, strict=True)):
            if k == 5:
                # The first few warm up the path; measured from here.
                time.sleep(0.1 if ctx.smoke else 0.5)
            sent_at[message_id] = time.monotonic()
            status = signing.post(port, request)
            if status != 200:
                fail(f"sse: webhook answered {status}")
            time.sleep(0.05)
        if ctx.smoke:
            # Each number has three users: stop once every event is in (a duplicate
            # arriving later than a short grace goes unseen here; the full run waits 2 s).
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and arrived(streams) < 3 * len(ids):
                time.sleep(0.02)
            time.sleep(0.1)
        else:
            time.sleep(2.0)
        for stream in streams:
            stream.stop()
    from hiretext.messaging.models import Message

    pk_of = dict(Message.objects.filter(external_id__in=ids).values_list("external_id", "pk"))
    number_of = dict(
        Message.objects.filter(external_id__in=ids).values_list(
            "external_id", "conversation__number_id"
        )
    )
    connection.close()
    seat_of_user = {u: k // 3 for k, u in enumerate(org.users)}
    latencies: list[float] = []
    missing = duplicates = 0
    for message_id in ids[5:]:
        pk = pk_of.get(message_id)
        if pk is None:
            fail(f"sse: message {message_id} was not stored")
        for user, stream in zip(org.users, streams, strict=True):
            on_number = org.numbers[seat_of_user[user]][0] == number_of[message_id]
            arrivals = stream.arrivals.get(pk, [])
            if not on_number:
                if arrivals:
                    fail(f"sse: a user off the number received message {pk}")
                continue
            if not arrivals:
                missing += 1
                continue
            duplicates += len(arrivals) - 1
            latencies.append((arrivals[0] - sent_at[message_id]) * 1000)
    if missing or duplicates:
        fail(f"sse: {missing} events missing, {duplicates} duplicated at the clients")
    p50, p99 = pct(latencies, 50), pct(latencies, 99)
    out: dict[str, Any] = {
        "webhooks": len(ids) - 5,
        "deliveries": len(latencies),
        "p50_ms": round(p50, 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(max(latencies, default=0), 1),
        "ratio_to_goal": round(p99 / GOAL_P99_MS, 2),
        "meets_goal": p99 < GOAL_P99_MS,
        "fanout": os.environ.get("HIRETEXT_EVENTS_BACKEND") or "default",
    }
    out["lines"] = [
        f"webhook → SSE at the client: p50 {p50:.0f} ms, p99 {p99:.0f} ms over {len(latencies)} "
        f"deliveries to {len(streams)} streams (goal p99 < {GOAL_P99_MS:.0f} ms); every event "
        "reached every user of its number once" + verdict(out["meets_goal"]),
    ]
    for line in out["lines"]:
        ctx.say(f"sse: {line}")
    return out
