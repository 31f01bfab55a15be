"""Seats, buying and releasing numbers, users on seats, allowances and monthly charges.

Each function owns its transaction, locks the seat row it changes, and leaves the final word
to the database constraints (see models): a lost race becomes a clear DomainError.
"""

import contextlib
import random
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hiretext.accounts.models import Organization, User
from hiretext.carriers.base import BoughtNumber, Carrier, CarrierError
from hiretext.carriers.registry import carrier_for, carrier_for_org
from hiretext.lib.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from hiretext.lib.phones import format_phone
from hiretext.numbers.allowance import current_period
from hiretext.numbers.models import (
    MAX_USERS_PER_SEAT,
    NumberCharge,
    PhoneNumber,
    Seat,
    SeatAssignment,
    TermsAcceptance,
    month_start,
)

DEFAULT_MONTHLY_PRICE_CENTS = 500
MAX_MONTHLY_ALLOWANCE = 100_000
MAX_SEATS = 500
AUTO_ATTEMPTS = 5


# --- small helpers -------------------------------------------------------------------------


def monthly_price_cents() -> int:
    return int(
        getattr(settings, "HIRETEXT_NUMBER_MONTHLY_PRICE_CENTS", DEFAULT_MONTHLY_PRICE_CENTS)
    )


def price_label(cents: int) -> str:
    """`500` → "$5.00 / month"."""
    return f"${cents // 100:,}.{cents % 100:02d} / month"


def terms_text(e164: str, cents: int, allowance: int) -> str:
    """The monthly terms exactly as shown on the confirmation step and stored on acceptance."""
    return (
        f"I agree to pay {price_label(cents)} for the number {format_phone(e164)}, charged now "
        f"and each calendar month until the number is released. It includes {allowance} "
        "outgoing text messages a month; incoming messages are free."
    )


def _require_manager(actor: User) -> None:
    if not actor.has_perm("accounts.manage_text_messaging"):
        raise PermissionDenied()


def clean_area_code(raw: object) -> str:
    """Exactly three digits, e.g. "415"; anything else is a validation error."""
    if not isinstance(raw, str) or len(raw) != 3 or not raw.isascii() or not raw.isdigit():
        raise ValidationFailed(
            "Enter a 3-digit area code, e.g. 415.", {"area_code": ["Enter 3 digits."]}
        )
    return raw


def clean_e164(raw: object, area_code: str) -> str:
    """A North American E.164 number (+1 and 10 digits) in the requested area code."""
    if not (
        isinstance(raw, str)
        and len(raw) == 12
        and raw.startswith("+1")
        and raw[1:].isascii()
        and raw[1:].isdigit()
    ):
        raise ValidationFailed(
            "Pick a number from the list.", {"e164": ["Expected E.164, e.g. +14155550142."]}
        )
    if raw[2:5] != area_code:
        raise ValidationFailed(
            f"{format_phone(raw)} is not in area code {area_code}.",
            {"e164": [f"Not in area code {area_code}."]},
        )
    return raw


def seat_label(seat: Seat) -> str:
    """The seat's active number ("+1 415 555 0142") or "Seat 2" when it has none."""
    number = PhoneNumber.objects.filter(seat=seat, status=PhoneNumber.Status.ACTIVE).first()
    return format_phone(number.e164) if number else str(seat)


def _unavailable(e164: str | None, area_code: str) -> Conflict:
    if e164:
        return Conflict(
            "number_unavailable",
            f"{format_phone(e164)} is no longer available. Choose another number.",
        )
    return Conflict(
        "number_unavailable", f"No numbers are available in area code {area_code} right now."
    )


def carrier_failed(exc: CarrierError) -> DomainError:
    return DomainError(
        "carrier_unavailable",
        f"The carrier could not complete the request ({exc.message[:200]}). Try again shortly.",
        status=502,
    )


# --- seats --------------------------------------------------------------------------------


def ensure_seats(org: Organization, count: int) -> list[Seat]:
    """Make sure the organisation has at least `count` seats (positions 1…count); idempotent."""
    if not 0 <= count <= MAX_SEATS:
        raise ValidationFailed(f"An organisation can have 0 to {MAX_SEATS} seats.")
    Seat.objects.bulk_create(
        [Seat(organization=org, position=p) for p in range(1, count + 1)], ignore_conflicts=True
    )
    return list(Seat.objects.filter(organization=org).order_by("position"))


def set_seat_count(org: Organization, count: int) -> list[Seat]:
    """Set the plan's seat count (platform staff). Removes only the highest, unused seats."""
    with transaction.atomic():
        seats = ensure_seats(org, count)
        extra = [s for s in seats if s.position > count]
        for seat in extra:
            if PhoneNumber.objects.filter(seat=seat).exists():
                raise Conflict(
                    "seat_in_use", f"{seat} has held a number and keeps its history; not removed."
                )
            if SeatAssignment.objects.filter(seat=seat).exists():
                raise Conflict("seat_in_use", f"{seat} has users; remove them first.")
        Seat.objects.filter(pk__in=[s.pk for s in extra]).delete()
    return [s for s in seats if s.position <= count]


def set_monthly_allowance(actor: User, seat: Seat, allowance: int) -> Seat:
    """The outbound allowance of the seat and of its active number (this month included)."""
    _require_manager(actor)
    if isinstance(allowance, bool) or not isinstance(allowance, int):
        raise ValidationFailed("The allowance must be a whole number.")
    if not 0 <= allowance <= MAX_MONTHLY_ALLOWANCE:
        raise ValidationFailed(
            f"The allowance must be between 0 and {MAX_MONTHLY_ALLOWANCE:,}.",
            {"monthly_allowance": [f"Between 0 and {MAX_MONTHLY_ALLOWANCE}."]},
        )
    with transaction.atomic():
        Seat.objects.filter(pk=seat.pk).update(monthly_allowance=allowance)
        PhoneNumber.objects.filter(seat=seat, status=PhoneNumber.Status.ACTIVE).update(
            monthly_allowance=allowance
        )
    seat.monthly_allowance = allowance
    return seat


# --- buying and releasing -----------------------------------------------------------------


def propose_number(org: Organization, area_code: str) -> str:
    """A random available number of the area code, for the auto flow's confirmation step."""
    area_code = clean_area_code(area_code)
    try:
        found = carrier_for_org(org).search_numbers(area_code, limit=20)
    except CarrierError as exc:
        raise carrier_failed(exc) from exc
    if not found:
        raise _unavailable(None, area_code)
    return random.choice(found).e164  # noqa: S311 - not a secret


def _buy_from_carrier(carrier: Carrier, area_code: str, e164: str | None) -> BoughtNumber:
    """Buy exactly `e164`, or (auto) a random available number of the area code."""
    if e164 is not None:
        candidates = [e164]
    else:
        found = [n.e164 for n in carrier.search_numbers(area_code, limit=20)]
        random.shuffle(found)
        candidates = found[:AUTO_ATTEMPTS]
    for candidate in candidates:
        try:
            return carrier.buy_number(candidate)
        except CarrierError as exc:
            if exc.code != "number_unavailable":
                raise carrier_failed(exc) from exc
    raise _unavailable(e164, area_code)


def buy_number(
    actor: User,
    seat: Seat,
    *,
    area_code: str,
    e164: str | None = None,
    terms_accepted: bool,
    now: datetime | None = None,
) -> PhoneNumber:
    """Buy a number for an empty seat: `e164` (choose) or a random one (auto).

    Records the terms acceptance and the first monthly charge in the same transaction.
    """
    _require_manager(actor)
    area_code = clean_area_code(area_code)
    if e164 is not None:
        e164 = clean_e164(e164, area_code)
    price = monthly_price_cents()
    if terms_accepted is not True:
        raise DomainError(
            "terms_not_accepted",
            f"Tick the box to agree to the monthly terms ({price_label(price)}) first.",
        )
    org = seat.organization
    carrier = carrier_for_org(org)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            locked = Seat.objects.select_for_update().get(pk=seat.pk)
            held = PhoneNumber.objects.filter(seat=locked, status=PhoneNumber.Status.ACTIVE).first()
            if held is not None:
                raise Conflict(
                    "seat_has_number", f"{locked} already has the number {format_phone(held.e164)}."
                )
            bought = _buy_from_carrier(carrier, area_code, e164)
            try:
                with transaction.atomic():
                    number = PhoneNumber.objects.create(
                        organization=org,
                        seat=locked,
                        e164=bought.e164,
                        carrier=carrier.slug,
                        carrier_id=bought.carrier_id,
                        monthly_allowance=locked.monthly_allowance,
                        monthly_price_cents=price,
                        purchased_at=now,
                    )
            except IntegrityError:
                # The carrier sold it, yet we hold it elsewhere: give it back (real carriers).
                _release_quietly(carrier, bought)
                raise _unavailable(bought.e164, area_code) from None
            TermsAcceptance.objects.create(
                organization=org,
                number=number,
                accepted_by=actor,
                accepted_by_email=actor.email,
                accepted_at=now,
                monthly_price_cents=price,
                terms=terms_text(number.e164, price, number.monthly_allowance),
            )
            NumberCharge.objects.create(
                organization=org,
                number=number,
                period=current_period(number, now),
                amount_cents=price,
                charged_at=now,
            )
    except IntegrityError as exc:
        # Only one_active_number_per_seat can get here: a parallel purchase for this seat won.
        raise Conflict("seat_has_number", f"{seat} already has a number.") from exc
    return number


def _release_quietly(carrier: Carrier, bought: BoughtNumber) -> None:
    with contextlib.suppress(CarrierError):  # nothing more to do; the carrier's records show it
        carrier.release_number(bought.e164, bought.carrier_id)


def release_number(actor: User, seat: Seat, now: datetime | None = None) -> PhoneNumber:
    """Give the seat's number back to its carrier; charges stop, the seat and its users stay."""
    _require_manager(actor)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Seat.objects.select_for_update().get(pk=seat.pk)
        number = PhoneNumber.objects.filter(seat=locked, status=PhoneNumber.Status.ACTIVE).first()
        if number is None:
            raise NotFound(f"{locked} has no number to release.")
        number.status = PhoneNumber.Status.RELEASED
        number.released_at = now
        number.save(update_fields=["status", "released_at"])
        try:
            carrier_for(number.carrier, locked.organization).release_number(
                number.e164, number.carrier_id
            )
        except CarrierError as exc:
            raise carrier_failed(exc) from exc
    return number


# --- users on seats -----------------------------------------------------------------------


def _already_assigned(assignment: SeatAssignment) -> Conflict:
    return Conflict(
        "user_already_assigned",
        f"{assignment.user.display_name} is already assigned to {seat_label(assignment.seat)}.",
    )


def _seat_full(seat: Seat, free: int, wanted: int) -> Conflict:
    noun = "number" if seat_label(seat) != str(seat) else "seat"
    if free == 0:
        return Conflict("seat_full", f"This {noun} already has {MAX_USERS_PER_SEAT} users.")
    return Conflict(
        "seat_full",
        f"This {noun} has room for {free} more user{'s' if free != 1 else ''}, "
        f"not {wanted} (at most {MAX_USERS_PER_SEAT}).",
    )


def assign_users(actor: User, seat: Seat, user_ids: Iterable[int]) -> list[SeatAssignment]:
    """Put users on the seat, all or none: at most 3 per seat, one seat per user."""
    _require_manager(actor)
    ids = list(dict.fromkeys(user_ids))
    if any(not 0 < pk < 2**63 for pk in ids):
        raise NotFound("No such user.")
    if not ids:
        raise ValidationFailed("Pick at least one user.", {"user_id": ["Pick a user."]})
    users = list(
        User.objects.filter(organization_id=seat.organization_id, pk__in=ids, is_active=True)
    )
    if len(users) != len(ids):
        raise NotFound("No such user.")
    users.sort(key=lambda u: ids.index(u.pk))
    try:
        with transaction.atomic():
            locked = Seat.objects.select_for_update().get(pk=seat.pk)
            taken = (
                SeatAssignment.objects.select_related("user", "seat")
                .filter(user_id__in=ids)
                .order_by("id")
                .first()
            )
            if taken is not None:
                raise _already_assigned(taken)
            used = set(SeatAssignment.objects.filter(seat=locked).values_list("slot", flat=True))
            free = [s for s in range(1, MAX_USERS_PER_SEAT + 1) if s not in used]
            if len(free) < len(ids):
                raise _seat_full(locked, len(free), len(ids))
            return [
                SeatAssignment.objects.create(
                    organization_id=locked.organization_id, seat=locked, user=user, slot=slot
                )
                for user, slot in zip(users, free, strict=False)
            ]
    except IntegrityError as exc:
        # A parallel request won; say who and where, as the checks above would have.
        taken = (
            SeatAssignment.objects.select_related("user", "seat")
            .filter(user_id__in=ids)
            .order_by("id")
            .first()
        )
        if taken is not None:
            raise _already_assigned(taken) from exc
        used_count = SeatAssignment.objects.filter(seat=seat).count()
        raise _seat_full(seat, max(0, MAX_USERS_PER_SEAT - used_count), len(ids)) from exc


def assign_user(actor: User, seat: Seat, user_id: int) -> SeatAssignment:
    return assign_users(actor, seat, [user_id])[0]


def remove_user(actor: User, seat: Seat, user_id: int) -> User:
    """Take the user off the seat; their access to its conversations ends at once."""
    _require_manager(actor)
    if not 0 < user_id < 2**63:
        raise NotFound("That user is not on this seat.")
    with transaction.atomic():
        assignment = (
            SeatAssignment.objects.select_related("user").filter(seat=seat, user_id=user_id).first()
        )
        if assignment is None:
            raise NotFound("That user is not on this seat.")
        assignment.delete()
    return assignment.user


# --- monthly charges ----------------------------------------------------------------------


def _months(first: date, last: date) -> list[date]:
    months = []
    current = month_start(first)
    while current <= last:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def charge_monthly(now: datetime | None = None) -> int:
    """Record this month's charge for every active number (and any month missed); idempotent."""
    now = now or timezone.now()
    created = 0
    numbers = PhoneNumber.objects.select_related("organization").filter(
        status=PhoneNumber.Status.ACTIVE
    )
    for number in numbers.iterator():
        first = current_period(number, number.purchased_at)
        for period in _months(first, current_period(number, now)):
            _, made = NumberCharge.objects.get_or_create(
                number=number,
                period=period,
                defaults={
                    "organization_id": number.organization_id,
                    "amount_cents": number.monthly_price_cents,
                    "charged_at": now,
                },
            )
            created += made
    return created
