"""The monthly allowance of a number: how much is left, and taking or giving back units.

Callers hold a transaction. `take_allowance` first tries one conditional upsert of the
month's usage row (taken whole, or not at all); only when that finds too little left does
it lock the row and take what remains, so parallel sends never take more than the
allowance (PostgreSQL re-checks the condition on the locked row; SQLite serialises writers).
"""

import zoneinfo
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from hiretext.lib import prepared
from hiretext.numbers.models import MonthlyUsage, PhoneNumber, month_start

_TAKE_WHOLE = (
    "INSERT INTO numbers_monthlyusage (number_id, period, used) VALUES (%s, %s, %s) "
    "ON CONFLICT (number_id, period) DO UPDATE SET used = numbers_monthlyusage.used + %s "
    "WHERE numbers_monthlyusage.used + %s <= %s RETURNING used"
)


def current_period(number: PhoneNumber, now: datetime | None = None) -> date:
    """The first day of the current month in the number's organisation's time zone."""
    return period_in(number.organization.time_zone, now)


def period_in(time_zone: str, now: datetime | None = None) -> date:
    """The first day of the month `now` falls in, in the IANA zone `time_zone`."""
    local = timezone.localtime(now or timezone.now(), zoneinfo.ZoneInfo(time_zone))
    return month_start(local.date())


def used_this_month(number: PhoneNumber, now: datetime | None = None) -> int:
    row = MonthlyUsage.objects.filter(number=number, period=current_period(number, now)).first()
    return row.used if row else 0


def remaining_this_month(number: PhoneNumber, now: datetime | None = None) -> int:
    return max(0, number.monthly_allowance - used_this_month(number, now))


def take_whole(number_id: int, allowance: int, period: date, units: int) -> bool:
    """Take all `units` from `period`'s allowance in one statement; False if too few are left."""
    if units <= 0:
        return True
    if units > allowance:
        return False
    month = connection.ops.adapt_datefield_value(period)
    taken = prepared.fetchone(_TAKE_WHOLE, [number_id, month, units, units, units, allowance])
    return taken is not None


def take_allowance(number: PhoneNumber, units: int, now: datetime | None = None) -> int:
    """Take up to `units` from this month's allowance; return how many were taken (0…units)."""
    assert transaction.get_connection().in_atomic_block, "take_allowance needs a transaction"
    period = current_period(number, now)
    if take_whole(number.pk, number.monthly_allowance, period, units):
        return units
    return take_rest(number, units, period)


def take_rest(number: PhoneNumber, units: int, period: date) -> int:
    """Not enough for all of `units`: lock the month's row and take what is left of it."""
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
