"""Reads about seats, numbers and who is on them; `access_seat` raises NotFound outside the org."""

from hiretext.accounts.models import User
from hiretext.lib.errors import NotFound
from hiretext.numbers.models import PhoneNumber, Seat


def number_for_user(user: User) -> PhoneNumber | None:
    """The active number of the seat `user` is on, read live (removal takes effect at once)."""
    if user.pk is None:
        return None
    return (
        PhoneNumber.objects.select_related("organization", "seat")
        .filter(
            status=PhoneNumber.Status.ACTIVE,
            seat__assignments__user_id=user.pk,
        )
        .first()
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
    if user.organization_id is not None:
        seat = Seat.objects.filter(organization_id=user.organization_id, pk=seat_id).first()
    if seat is None:
        raise NotFound("No such seat.")
    return seat
