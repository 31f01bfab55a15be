"""`hiretext prune_events`: delete live-update events older than HIRETEXT_EVENTS_KEEP_HOURS.

Every `hiretext worker` process runs it about hourly (its housekeeping); this command runs
it by hand. A browser away for longer than that reloads its state instead of replaying events.
"""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hiretext.inbox import services


class Command(BaseCommand):
    help = "Delete old live-update events (default: older than HIRETEXT_EVENTS_KEEP_HOURS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=int, default=None, help="keep this many hours")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["hours"]
        if hours is not None and hours < 0:
            self.stderr.write("--hours must be 0 or more.")
            raise SystemExit(2)
        keep = timedelta(hours=hours) if hours is not None else None
        deleted = services.prune_events(keep=keep)
        self.stdout.write(f"Deleted {deleted} event{'s' if deleted != 1 else ''}.")
