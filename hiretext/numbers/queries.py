"""Reads about seats, numbers and who is on them; `access_seat` raises NotFound outside the org."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from hiretext.accounts.models import Organization, User
from hiretext.carriers.base import AvailableNumber, CarrierError
from hiretext.carriers.registry import carrier_for_org
from hiretext.lib import loaded, prepared
from hiretext.lib.errors import NotFound
from hiretext.numbers.models import MonthlyUsage, PhoneNumber, Seat, SeatAssignment, month_start

MAX_ID = 2**63 - 1  # ids beyond a bigint are simply not found (no database error)


def number_for_user(user: User) -> PhoneNumber | None:
    """The active number of the seat `user` is on, read live (removal takes effect at once),
    with its organisation and seat attached.

    Every inbox page, list refresh and send asks for it: one prepared SELECT, its row built
    into the ORM's instances (`hiretext.lib.loaded`). Through the ORM the query took longer
    to build, and PostgreSQL longer to plan, than to run.
    """
    if user.pk is None:
        return None
    row = prepared.fetchone(_number_for_user_sql(), [PhoneNumber.Status.ACTIVE.value, user.pk])
    if row is None:
        return None
    after_number = loaded.width(PhoneNumber)
    number = loaded.build(PhoneNumber, row)
    organization = loaded.build(Organization, row, after_number)
    seat = loaded.build(Seat, row, after_number + loaded.width(Organization))
    assert number is not None and organization is not None and seat is not None  # inner joins
    number.organization, number.seat = organization, seat
    return number


@cache
def user_number_sql(columns: str, joins: str = "", *, active_user: bool = False) -> str:
    """SELECT `columns` of the number a user is on: the active number of their seat (the
    lowest id, were a seat to hold two). `a` is the user's seat assignment and `n` the
    number; `joins` joins more tables; `active_user` only for a user who is still active
    (`u`). Its parameters: the active status, the user's id."""
    quote = connection.ops.quote_name
    user = (
        f"JOIN {quote(User._meta.db_table)} u ON u.id = a.user_id AND u.is_active "
        if active_user
        else ""
    )
    return (
        f"SELECT {columns} FROM {quote(SeatAssignment._meta.db_table)} a {user}"  # noqa: S608 - from the models
        f"JOIN {quote(PhoneNumber._meta.db_table)} n ON n.seat_id = a.seat_id AND n.status = %s "
        f"{joins}WHERE a.user_id = %s ORDER BY n.id LIMIT 1"
    )


@cache
def _number_for_user_sql() -> str:
    quote = connection.ops.quote_name
    return user_number_sql(
        f"{loaded.columns(PhoneNumber, 'n')}, {loaded.columns(Organization, 'o')}, "
        f"{loaded.columns(Seat, 's')}",
        f"JOIN {quote(Seat._meta.db_table)} s ON s.id = n.seat_id "
        f"JOIN {quote(Organization._meta.db_table)} o ON o.id = n.organization_id ",
    )


def users_on_number(number: PhoneNumber) -> list[User]:
    """The users on the number's seat while the number is active; nobody once released."""
    if number.status != PhoneNumber.Status.ACTIVE:
        return []
    return list(
        User.objects.filter(seat_assignment__seat_id=number.seat_id, is_active=True).order_by(
            "seat_assignment__slot"
        )
    )


def access_seat(user: User, seat_id: int) -> Seat:
    seat = None
    if user.organization_id is not None and 0 < seat_id <= MAX_ID:
        seat = Seat.objects.filter(organization_id=user.organization_id, pk=seat_id).first()
    if seat is None:
        raise NotFound("No such seat.")
    return seat


@dataclass(frozen=True)
class SeatRow:
    """A seat as the numbers page and GET /seats show it, for the current month."""

    seat: Seat
    number: PhoneNumber | None
    users: list[User]
    monthly_allowance: int
    used_this_month: int

    @property
    def remaining_this_month(self) -> int:
        return max(0, self.monthly_allowance - self.used_this_month)

    @property
    def remaining_percent(self) -> int:
        if self.monthly_allowance <= 0:
            return 0
        return round(100 * self.remaining_this_month / self.monthly_allowance)


def seat_rows(org: Organization, seats: list[Seat], now: datetime | None = None) -> list[SeatRow]:
    """Numbers, users and this month's usage for `seats`, in four queries whatever their count."""
    seat_ids = [s.pk for s in seats]
    numbers = {
        n.seat_id: n
        for n in PhoneNumber.objects.filter(seat_id__in=seat_ids, status=PhoneNumber.Status.ACTIVE)
    }
    for held in numbers.values():
        held.organization = org
    users: dict[int, list[User]] = {seat_id: [] for seat_id in seat_ids}
    for assignment in (
        SeatAssignment.objects.select_related("user")
        .filter(seat_id__in=seat_ids)
        .order_by("seat_id", "slot")
    ):
        users[assignment.seat_id].append(assignment.user)
    used: dict[int, int] = {}
    if numbers:
        period = month_start(timezone.localtime(now or timezone.now(), org.zone).date())
        used = dict(
            MonthlyUsage.objects.filter(
                number_id__in=[n.pk for n in numbers.values()], period=period
            ).values_list("number_id", "used")
        )
    rows = []
    for seat in seats:
        number = numbers.get(seat.pk)
        rows.append(
            SeatRow(
                seat=seat,
                number=number,
                users=users[seat.pk],
                monthly_allowance=number.monthly_allowance if number else seat.monthly_allowance,
                used_this_month=used.get(number.pk, 0) if number else 0,
            )
        )
    return rows


def list_seats(org: Organization) -> QuerySet[Seat]:
    return Seat.objects.filter(organization=org).order_by("position", "id")


def seat_row(seat: Seat, now: datetime | None = None) -> SeatRow:
    return seat_rows(seat.organization, [seat], now)[0]


def available_users(
    org: Organization, q: str = "", limit: int = 50, ids: list[int] | None = None
) -> list[User]:
    """Active users of the organisation on no seat, matching a partial or full name (or ids)."""
    qs = User.objects.filter(organization=org, is_active=True, seat_assignment__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=[pk for pk in ids if 0 < pk <= MAX_ID])
    q = " ".join(q.split())[:100]
    if q:
        condition = Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q)
        first, _, rest = q.partition(" ")
        if rest:
            condition |= Q(first_name__icontains=first, last_name__icontains=rest)
        qs = qs.filter(condition)
    return list(qs.order_by("last_name", "first_name", "id")[:limit])


def available_numbers(org: Organization, area_code: str, limit: int = 20) -> list[AvailableNumber]:
    """Numbers the organisation's carrier offers in an area code (validated: 3 digits)."""
    from hiretext.numbers.services import carrier_failed, clean_area_code

    area_code = clean_area_code(area_code)
    try:
        return carrier_for_org(org).search_numbers(area_code, limit=limit)
    except CarrierError as exc:
        raise carrier_failed(exc) from exc
