"""`hiretext serve_events`: the ASGI process for the live event stream (config/asgi.py).

gunicorn's own asyncio worker (`--worker-class asgi`, no extra dependency). One process
holds thousands of idle streams: each waits on the process's single listener (LISTEN,
Redis or polling) and touches the database only to read what it sends. Put it behind the
same origin as `hiretext serve`, routing `/inbox/events` here (README: Live updates).
"""

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the live event stream (Server-Sent Events) from ASGI worker processes."

    def add_arguments(self, parser: CommandParser) -> None:
        port = os.environ.get("HIRETEXT_EVENTS_PORT", "8001")
        parser.add_argument(
            "--bind", default=os.environ.get("HIRETEXT_EVENTS_BIND", f"127.0.0.1:{port}")
        )
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("HIRETEXT_EVENTS_WORKERS", "1"))
        )
        parser.add_argument(
            "--connections",
            type=int,
            default=int(os.environ.get("HIRETEXT_EVENTS_CONNECTIONS", "1000")),
            help="open streams per worker",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.asgi:application",
            "--worker-class",
            "asgi",
            "--bind",
            options["bind"],
            "--workers",
            str(max(1, options["workers"])),
            "--worker-connections",
            str(max(1, options["connections"])),
            "--no-control-socket",  # beside `hiretext serve` on the same machine
            "--graceful-timeout",
            "5",
            "--access-logfile",
            os.environ.get("HIRETEXT_ACCESS_LOG", "-"),
        ]
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with the server
