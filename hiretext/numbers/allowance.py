"""The monthly allowance of a number: how much is left, and taking or giving back units.

Callers hold a transaction; `take_allowance` locks the month's usage row so parallel
sends never take more than the allowance (SQLite serialises writers instead).
"""

from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from hiretext.numbers.models import MonthlyUsage, PhoneNumber, month_start


def current_period(number: PhoneNumber, now: datetime | None = None) -> date:
    """The first day of the current month in the number's organisation's time zone."""
    local = timezone.localtime(now or timezone.now(), number.organization.zone)
    return month_start(local.date())


def used_this_month(number: PhoneNumber, now: datetime | None = None) -> int:
    row = MonthlyUsage.objects.filter(number=number, period=current_period(number, now)).first()
    return row.used if row else 0


def remaining_this_month(number: PhoneNumber, now: datetime | None = None) -> int:
    return max(0, number.monthly_allowance - used_this_month(number, now))


def take_allowance(number: PhoneNumber, units: int, now: datetime | None = None) -> int:
    """Take up to `units` from this month's allowance; return how many were taken (0…units)."""
    assert transaction.get_connection().in_atomic_block, "take_allowance needs a transaction"
    period = current_period(number, now)
    MonthlyUsage.objects.bulk_create(
        [MonthlyUsage(number=number, period=period, used=0)], ignore_conflicts=True
    )
    row = MonthlyUsage.objects.select_for_update().get(number=number, period=period)
    taken = max(0, min(units, number.monthly_allowance - row.used))
    if taken:
        MonthlyUsage.objects.filter(pk=row.pk).update(used=F("used") + taken)
    return taken


def give_back_allowance(number: PhoneNumber, units: int, period: date) -> None:
    """Refund units taken in `period` (a permanent send failure)."""
    if units <= 0:
        return
    MonthlyUsage.objects.filter(number=number, period=period, used__gte=units).update(
        used=F("used") - units
    )
