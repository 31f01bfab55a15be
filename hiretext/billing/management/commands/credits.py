"""`hiretext credits topup --org <id or exact name> N`: platform staff add credits."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hiretext.accounts.models import Organization
from hiretext.billing import services
from hiretext.lib.errors import DomainError


class Command(BaseCommand):
    help = "Manage organisations' SMS credits."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        topup = sub.add_parser("topup", help="Add credits to an organisation.")
        topup.add_argument("--org", required=True, help="Organisation id or exact name")
        topup.add_argument("amount", type=int)
        topup.add_argument("--note", default="")
        show = sub.add_parser("balance", help="Show an organisation's balance.")
        show.add_argument("--org", required=True, help="Organisation id or exact name")

    def handle(self, *args: Any, **options: Any) -> None:
        org = self._org(options["org"])
        if options["action"] == "topup":
            try:
                services.top_up(org, options["amount"], note=options["note"] or "Top-up by staff")
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(f"{org.name}: {services.balance(org)} credits")

    def _org(self, ref: str) -> Organization:
        qs = Organization.objects.filter(pk=int(ref)) if ref.isdigit() else None
        if qs is None or not qs.exists():
            qs = Organization.objects.filter(name=ref)
        if qs.count() != 1:
            raise CommandError(f"No single organisation matches {ref[:80]!r}.")
        org = qs.get()
        return org
