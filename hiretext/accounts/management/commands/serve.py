"""`hiretext serve`: the production web server (gunicorn, sync WSGI workers; config/gunicorn.py).

Workers: `--workers`, else WEB_CONCURRENCY, else a default measured by `make bench`
(BENCHMARKS.md): on SQLite, a single writer, more processes than cores only queue on its
lock; on PostgreSQL, 2 per core plus one keeps the cores busy while others wait on I/O.

`--server granian` (HIRETEXT_SERVER): the same WSGI application under granian, whose HTTP
side is Rust and keeps connections alive; one request at a time per process, as gunicorn's
sync workers. PostgreSQL only: granian calls the application from a thread, and SQLite's
writer lock bounds its wait with a SIGALRM timer, which only a process's main thread gets.
"""

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


def default_workers() -> int:
    configured = int(os.environ.get("WEB_CONCURRENCY", "0") or 0)
    if configured > 0:
        return configured
    cores = os.cpu_count() or 1
    if connection.vendor == "sqlite":
        return cores + 1
    return cores * 2 + 1


SERVERS = ("gunicorn", "granian")


class Command(BaseCommand):
    help = "Serve the web app with several worker processes (README: Running at scale)."

    def add_arguments(self, parser: CommandParser) -> None:
        port = os.environ.get("PORT", "8000")
        parser.add_argument("--bind", default=os.environ.get("HIRETEXT_BIND", f"127.0.0.1:{port}"))
        parser.add_argument("--workers", type=int, default=0, help="default: WEB_CONCURRENCY")
        parser.add_argument(
            "--server",
            default="",
            help="gunicorn (default) or granian (PostgreSQL only); default: HIRETEXT_SERVER",
        )
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="skip collecting static files (done once per release by another step)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        server = options.get("server") or os.environ.get("HIRETEXT_SERVER") or "gunicorn"
        if server not in SERVERS:
            raise CommandError(f"--server must be one of {', '.join(SERVERS)}, not {server!r}.")
        if server == "granian" and connection.vendor == "sqlite":
            raise CommandError(
                "granian serves PostgreSQL only: it calls the application from a thread, and "
                "SQLite's writer lock needs each worker's main thread. Use gunicorn."
            )
        workers = options["workers"] if options["workers"] > 0 else default_workers()
        build = granian_argv if server == "granian" else gunicorn_argv
        argv = build(options["bind"], workers)
        if getattr(settings, "HIRETEXT_PRODUCTION", False) and not options["no_collectstatic"]:
            # Hashed, compressed copies for whitenoise's far-future caching.
            call_command("collectstatic", interactive=False, verbosity=0)
        connection.close()
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with the server


def gunicorn_argv(bind: str, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:config.gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers),
    ]


def granian_argv(bind: str, workers: int) -> list[str]:
    """granian with the settings of config/gunicorn.py that it has: one request at a time
    per process, failed workers replaced, 20 s to finish on stop, the same logs."""
    host, colon, port = bind.rpartition(":")
    if not colon or not port.isdigit():
        raise CommandError(f"granian listens on host:port (e.g. 0.0.0.0:8000), not {bind!r}.")
    argv = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        host.strip("[]") or "127.0.0.1",
        "--port",
        port,
        "--workers",
        str(workers),
        "--blocking-threads",
        "1",
        "--no-ws",
        "--respawn-failed-workers",
        "--workers-kill-timeout",
        "20",
        "--log-level",
        os.environ.get("HIRETEXT_LOG_LEVEL", "info").lower(),
    ]
    if os.environ.get("HIRETEXT_ACCESS_LOG", "-"):
        argv.append("--access-log")
    return [*argv, "config.granian:application"]
