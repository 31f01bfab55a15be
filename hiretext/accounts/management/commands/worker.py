"""`hiretext worker`: run background task workers (sending, retries, notifications)."""

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run several database task workers; they share the queue with SKIP LOCKED."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--processes", type=int, default=int(os.environ.get("HIRETEXT_WORKERS", "2"))
        )
        parser.add_argument("--interval", type=float, default=0.2)

    def handle(self, *args: Any, **options: Any) -> None:
        cmd = [
            sys.executable,
            "-m",
            "hiretext",
            "db_worker",
            "--interval",
            str(options["interval"]),
            "--no-startup-delay",
        ]
        if options["processes"] <= 1:
            os.execv(sys.executable, cmd)  # noqa: S606
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
