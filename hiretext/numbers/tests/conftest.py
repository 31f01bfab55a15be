import pytest

from hiretext.numbers import services


@pytest.fixture
def seats(org):
    return services.ensure_seats(org, 3)


@pytest.fixture
def other_seats(other_org):
    return services.ensure_seats(other_org, 2)


@pytest.fixture
def buy(admin):
    """`buy(seat, e164=None, area_code="415")`: a number bought with the terms accepted."""

    def make(seat, e164=None, area_code="415", actor=None, **kwargs):
        return services.buy_number(
            actor or admin,
            seat,
            area_code=area_code,
            e164=e164,
            terms_accepted=True,
            **kwargs,
        )

    return make
