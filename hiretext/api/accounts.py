"""Tokens and users."""

from django.http import HttpRequest
from ninja import Router, Schema

from hiretext.accounts.models import User
from hiretext.accounts.services import issue_token
from hiretext.accounts.throttle import client_address
from hiretext.api.core import current_org
from hiretext.api.schemas import Strict, Text254
from hiretext.lib.pagination import paginate

router = Router(tags=["accounts"])


class TokenIn(Strict):
    email: Text254
    password: Text254


class TokenOut(Schema):
    token: str


@router.post("/auth/token", auth=None, response=TokenOut)
def create_token(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    return {"token": issue_token(payload.email, payload.password, client_address(request))}


class UserOut(Schema):
    id: int
    name: str
    email: str
    seat_id: int | None


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


def seat_id_of(user: User) -> int | None:
    assignment = getattr(user, "seat_assignment", None)
    return assignment.seat_id if assignment is not None else None


@router.get("/users", response=UserPage)
def list_users(
    request: HttpRequest, cursor: str | None = None, q: str = "", limit: int = 50
) -> dict[str, object]:
    qs = User.objects.select_related("seat_assignment").filter(
        organization=current_org(request), is_active=True
    )
    if q.strip():
        from hiretext.ats.queries import person_search_filter

        qs = qs.filter(person_search_filter(q, phone=False))  # users have no phone
    rows, next_cursor = paginate(qs, ["last_name", "first_name", "id"], cursor, limit=limit)
    items = [
        {"id": u.pk, "name": u.display_name, "email": u.email, "seat_id": seat_id_of(u)}
        for u in rows
    ]
    return {"items": items, "next_cursor": next_cursor}
