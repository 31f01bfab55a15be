"""Credits: top up (staff), debit inside a send's transaction, refund a failed send."""

from django.db import transaction
from django.db.models import Sum

from hiretext.accounts.models import Organization, User
from hiretext.billing.models import CreditEntry
from hiretext.lib.errors import DomainError, ValidationFailed

MAX_TOPUP = 10_000_000


def balance(org: Organization) -> int:
    return CreditEntry.objects.filter(organization=org).aggregate(total=Sum("amount"))["total"] or 0


def top_up(
    org: Organization, amount: int, *, actor: User | None = None, note: str = ""
) -> CreditEntry:
    """Add credits (platform staff, via `hiretext credits topup`)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_TOPUP:
        raise ValidationFailed(
            f"A top-up is a whole number of credits from 1 to {MAX_TOPUP:,}.",
            {"amount": ["Out of range."]},
        )
    return CreditEntry.objects.create(
        organization=org, kind=CreditEntry.Kind.TOPUP, amount=amount, actor=actor, note=note[:300]
    )


def debit(org: Organization, units: int, *, message_id: int) -> None:
    """Take `units` credits for a message, or refuse with `insufficient_credits`.

    Runs inside the send's transaction; locking the organisation row serialises debits of
    one organisation, so two sends can never both spend the last credits.
    """
    assert transaction.get_connection().in_atomic_block, "debit needs the send's transaction"
    Organization.objects.select_for_update(no_key=True).only("id").get(pk=org.pk)
    available = balance(org)
    if available < units:
        raise DomainError(
            "insufficient_credits",
            f"This message needs {units} credit{'s' if units != 1 else ''} beyond the monthly "
            f"allowance, and the organisation has {available}. Ask your account manager to "
            "top up credits.",
        )
    CreditEntry.objects.create(
        organization=org,
        kind=CreditEntry.Kind.DEBIT,
        amount=-units,
        message_id=message_id,
        note="Segments beyond the monthly allowance",
    )


def refund(org: Organization, units: int, *, message_id: int, note: str = "") -> None:
    """Give back what a message was debited (it was never sent). Refunding twice is a no-op."""
    if units <= 0:
        return
    with transaction.atomic():
        if CreditEntry.objects.filter(message_id=message_id, kind=CreditEntry.Kind.REFUND).exists():
            return
        CreditEntry.objects.create(
            organization=org,
            kind=CreditEntry.Kind.REFUND,
            amount=units,
            message_id=message_id,
            note=note[:300] or "Message not sent",
        )
