"""`hiretext serve`: the production web server (gunicorn, sync WSGI workers; config/gunicorn.py).

Workers: `--workers`, else WEB_CONCURRENCY, else a default measured by `make bench`
(BENCHMARKS.md): on SQLite, a single writer, more processes than cores only queue on its
lock; on PostgreSQL, 2 per core plus one keeps the cores busy while others wait on I/O.
"""

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection


def default_workers() -> int:
    configured = int(os.environ.get("WEB_CONCURRENCY", "0") or 0)
    if configured > 0:
        return configured
    cores = os.cpu_count() or 1
    if connection.vendor == "sqlite":
        return cores + 1
    return cores * 2 + 1


class Command(BaseCommand):
    help = "Serve the web app with several gunicorn worker processes (README: Running at scale)."

    def add_arguments(self, parser: CommandParser) -> None:
        port = os.environ.get("PORT", "8000")
        parser.add_argument("--bind", default=os.environ.get("HIRETEXT_BIND", f"127.0.0.1:{port}"))
        parser.add_argument("--workers", type=int, default=0, help="default: WEB_CONCURRENCY")
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="skip collecting static files (done once per release by another step)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"] if options["workers"] > 0 else default_workers()
        if getattr(settings, "HIRETEXT_PRODUCTION", False) and not options["no_collectstatic"]:
            # Hashed, compressed copies for whitenoise's far-future caching.
            call_command("collectstatic", interactive=False, verbosity=0)
        connection.close()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:config.gunicorn",
            "--bind",
            options["bind"],
            "--workers",
            str(workers),
        ]
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with the server
