"""`hiretext serve`: the production web server (gunicorn, sync WSGI workers)."""

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the web app with several gunicorn worker processes."

    def add_arguments(self, parser: CommandParser) -> None:
        port = os.environ.get("PORT", "8000")
        parser.add_argument("--bind", default=os.environ.get("HIRETEXT_BIND", f"127.0.0.1:{port}"))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", "0")) or (os.cpu_count() or 1) * 2 + 1,
        )

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            os.environ.get("HIRETEXT_ACCESS_LOG", "-"),
            "--graceful-timeout",
            "20",
            "--timeout",
            "60",
        ]
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with the server
