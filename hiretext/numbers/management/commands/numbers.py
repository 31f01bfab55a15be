"""`hiretext numbers charge_monthly`: record this month's charge of every active number.

Idempotent (one charge per number and month). Every `hiretext worker` process runs it about
hourly (its housekeeping); this command runs it by hand.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hiretext.numbers.services import charge_monthly


class Command(BaseCommand):
    help = "Number housekeeping: charge_monthly records each active number's monthly charge."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("charge_monthly", help="Record this month's charges (idempotent).")

    def handle(self, *args: Any, **options: Any) -> None:
        created = charge_monthly()
        self.stdout.write(f"Recorded {created} monthly charge(s).")
