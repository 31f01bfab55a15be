"""Seats, their numbers and users: buy, release, assign, allowance (Manage Text Messaging)."""

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, StringConstraints

from hiretext.api.core import current_org, require_perm
from hiretext.api.schemas import Strict
from hiretext.lib.errors import ValidationFailed
from hiretext.lib.pagination import paginate
from hiretext.numbers import queries, services
from hiretext.numbers.models import Seat
from hiretext.numbers.queries import SeatRow

router = Router(tags=["numbers"])

PERM = "manage_text_messaging"
AreaCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
E164 = Annotated[str, StringConstraints(pattern=r"^\+[0-9]{8,15}$")]
MAX_ID = 2**63 - 1


class NumberOut(Schema):
    id: int
    e164: str
    status: str


class SeatUserOut(Schema):
    id: int
    name: str
    email: str


class SeatOut(Schema):
    id: int
    position: int
    number: NumberOut | None
    users: list[SeatUserOut]
    monthly_allowance: int
    used_this_month: int
    remaining_this_month: int


class SeatPage(Schema):
    items: list[SeatOut]
    next_cursor: str | None


class AvailableOut(Schema):
    e164: str
    locality: str


class AvailablePage(Schema):
    items: list[AvailableOut]
    next_cursor: str | None


class BuyIn(Strict):
    mode: Literal["auto", "choose"]
    area_code: AreaCode
    e164: E164 | None = None
    terms_accepted: bool = False


class SeatPatch(Strict):
    monthly_allowance: int = Field(ge=0, le=services.MAX_MONTHLY_ALLOWANCE)


class AssignIn(Strict):
    user_id: int = Field(ge=1, le=MAX_ID)


def _out(row: SeatRow) -> dict[str, Any]:
    number = row.number
    return {
        "id": row.seat.pk,
        "position": row.seat.position,
        "number": (
            {"id": number.pk, "e164": number.e164, "status": number.status} if number else None
        ),
        "users": [{"id": u.pk, "name": u.display_name, "email": u.email} for u in row.users],
        "monthly_allowance": row.monthly_allowance,
        "used_this_month": row.used_this_month,
        "remaining_this_month": row.remaining_this_month,
    }


def _seat(request: HttpRequest, seat_id: int) -> Seat:
    """Permission first (403), then the seat within the caller's organisation (404)."""
    return queries.access_seat(require_perm(request, PERM), seat_id)


def _fresh(seat: Seat) -> dict[str, Any]:
    return _out(queries.seat_row(seat))


@router.get("/seats", response=SeatPage)
def list_seats(
    request: HttpRequest, cursor: str | None = None, limit: int = 50
) -> dict[str, object]:
    require_perm(request, PERM)
    org = current_org(request)
    seats, next_cursor = paginate(queries.list_seats(org), ["position", "id"], cursor, limit=limit)
    return {"items": [_out(r) for r in queries.seat_rows(org, seats)], "next_cursor": next_cursor}


@router.get("/numbers/available", response=AvailablePage)
def available_numbers(request: HttpRequest, area_code: str) -> dict[str, object]:
    require_perm(request, PERM)
    found = queries.available_numbers(current_org(request), area_code[:10])
    return {"items": [{"e164": n.e164, "locality": n.locality} for n in found], "next_cursor": None}


@router.post("/seats/{seat_id}/number", response={201: SeatOut})
def buy_number(request: HttpRequest, seat_id: int, payload: BuyIn) -> Status[dict[str, Any]]:
    seat = _seat(request, seat_id)
    if payload.mode == "choose" and payload.e164 is None:
        raise ValidationFailed(
            "Choose mode needs the e164 of the number picked.", {"e164": ["Required."]}
        )
    if payload.mode == "auto" and payload.e164 is not None:
        raise ValidationFailed(
            'Auto mode picks the number itself; send e164 with mode "choose".',
            {"e164": ["Only with mode choose."]},
        )
    services.buy_number(
        require_perm(request, PERM),
        seat,
        area_code=payload.area_code,
        e164=payload.e164,
        terms_accepted=payload.terms_accepted,
    )
    return Status(201, _fresh(seat))


@router.delete("/seats/{seat_id}/number", response=SeatOut)
def release_number(request: HttpRequest, seat_id: int) -> dict[str, Any]:
    seat = _seat(request, seat_id)
    services.release_number(require_perm(request, PERM), seat)
    return _fresh(seat)


@router.patch("/seats/{seat_id}", response=SeatOut)
def update_seat(request: HttpRequest, seat_id: int, payload: SeatPatch) -> dict[str, Any]:
    seat = _seat(request, seat_id)
    services.set_monthly_allowance(require_perm(request, PERM), seat, payload.monthly_allowance)
    return _fresh(seat)


@router.post("/seats/{seat_id}/users", response={201: SeatOut})
def assign_user(request: HttpRequest, seat_id: int, payload: AssignIn) -> Status[dict[str, Any]]:
    seat = _seat(request, seat_id)
    services.assign_user(require_perm(request, PERM), seat, payload.user_id)
    return Status(201, _fresh(seat))


@router.delete("/seats/{seat_id}/users/{user_id}", response=SeatOut)
def remove_user(request: HttpRequest, seat_id: int, user_id: int) -> dict[str, Any]:
    seat = _seat(request, seat_id)
    services.remove_user(require_perm(request, PERM), seat, user_id)
    return _fresh(seat)
