"""`hiretext seats set --org "Acme Staffing" 5` (platform staff) and `hiretext seats list`."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hiretext.accounts.models import Organization
from hiretext.lib.errors import DomainError
from hiretext.numbers import queries, services


def _org(name: str) -> Organization:
    matches = list(Organization.objects.filter(name=name)[:2])
    if not matches:
        raise CommandError(f"No organisation is named “{name[:100]}”.")
    if len(matches) > 1:
        raise CommandError(f"Several organisations are named “{name[:100]}”; use --org-id.")
    return matches[0]


class Command(BaseCommand):
    help = "Set or show an organisation's seat count (its plan)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        set_parser = sub.add_parser("set", help="Set the number of seats.")
        who = set_parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--org", help="Organisation name")
        who.add_argument("--org-id", type=int, help="Organisation id")
        set_parser.add_argument("count", type=int)
        list_parser = sub.add_parser("list", help="Show seats, numbers and users.")
        who = list_parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--org")
        who.add_argument("--org-id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["org_id"] is not None:
            org = Organization.objects.filter(pk=options["org_id"]).first()
            if org is None:
                raise CommandError(f"No organisation has id {options['org_id']}.")
        else:
            org = _org(options["org"])
        if options["action"] == "set":
            try:
                seats = services.set_seat_count(org, options["count"])
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(f"{org.name} has {len(seats)} seat(s).")
            return
        for row in queries.seat_rows(org, list(queries.list_seats(org))):
            number = row.number.e164 if row.number else "no number"
            users = ", ".join(u.email for u in row.users) or "no users"
            self.stdout.write(
                f"{row.seat}: {number}; {users}; "
                f"{row.remaining_this_month}/{row.monthly_allowance} left this month"
            )
