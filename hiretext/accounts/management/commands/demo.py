"""`hiretext demo`: migrate, seed the demo organisations, serve web + worker until stopped."""

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from hiretext.accounts.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Set up and serve the demo (SQLite, simulator carrier, seeded organisations)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--seed-only", action="store_true", help="Migrate and seed, no server.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        seed_demo(log=lambda line: self.stdout.write(line))
        if options["seed_only"]:
            return
        host, port = options["host"], options["port"]
        url = f"http://{host}:{port}/"
        self.stdout.write(
            self.style.SUCCESS(
                f"\nhiretext demo is running at {url}\n"
                f"Log in as recruiter1@acme.test (or admin@acme.test, manager@acme.test, "
                f"admin@beacon.test) with the password “{DEMO_PASSWORD}”.\n"
                "Press Ctrl+C to stop.\n"
            )
        )
        exe = [sys.executable, "-m", "hiretext"]
        worker = subprocess.Popen([*exe, "worker", "--processes", "1"])  # noqa: S603
        web = subprocess.Popen([*exe, "serve", "--bind", f"{host}:{port}", "--workers", "2"])  # noqa: S603
        procs = [web, worker]

        def stop(*_: object) -> None:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
