"""The monthly allowance rolls over at midnight on the 1st in the organisation's zone."""

from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.db import transaction

from hiretext.numbers import queries
from hiretext.numbers.allowance import (
    current_period,
    give_back_allowance,
    remaining_this_month,
    take_allowance,
    take_whole,
    used_this_month,
)
from hiretext.numbers.models import MonthlyUsage

pytestmark = pytest.mark.django_db

# 2026-01-31 23:30 in Los Angeles (PST, UTC-8) is already 2026-02-01 07:30 in UTC.
LA_JAN_31_2330 = datetime(2026, 2, 1, 7, 30, tzinfo=UTC)
LA_FEB_1_0030 = datetime(2026, 2, 1, 8, 30, tzinfo=UTC)


def frozen(at):
    return mock.patch("django.utils.timezone.now", return_value=at)


def take(number, units):
    with transaction.atomic():
        return take_allowance(number, units)


def test_late_evening_on_the_31st_in_los_angeles_is_still_january(seats, buy):
    number = buy(seats[0])
    assert number.organization.time_zone == "America/Los_Angeles"
    with frozen(LA_JAN_31_2330):
        assert current_period(number) == date(2026, 1, 1)
        assert take(number, 240) == 240
        assert take(number, 20) == 10  # only what is left of January's 250
        assert remaining_this_month(number) == 0
        row = queries.seat_row(seats[0])
        assert (row.used_this_month, row.remaining_this_month) == (250, 0)
    with frozen(LA_FEB_1_0030):
        # A new month in Los Angeles: the full allowance, without any job having run.
        assert current_period(number) == date(2026, 2, 1)
        assert used_this_month(number) == 0
        assert remaining_this_month(number) == 250
        row = queries.seat_row(seats[0])
        assert (row.monthly_allowance, row.used_this_month, row.remaining_this_month) == (
            250,
            0,
            250,
        )
        assert take(number, 3) == 3
    assert dict(MonthlyUsage.objects.values_list("period", "used")) == {
        date(2026, 1, 1): 250,
        date(2026, 2, 1): 3,
    }


def test_the_same_instant_is_february_for_an_organisation_in_new_york(
    other_seats, buy, other_admin
):
    number = buy(other_seats[0], actor=other_admin)
    assert number.organization.time_zone == "America/New_York"
    with frozen(LA_JAN_31_2330):  # 02:30 on 1 February in New York
        assert current_period(number) == date(2026, 2, 1)


def test_explicit_now_and_summer_time(seats, buy):
    number = buy(seats[0])
    # 2026-07-31 23:59 PDT (UTC-7) = 2026-08-01 06:59 UTC.
    assert current_period(number, datetime(2026, 8, 1, 6, 59, tzinfo=UTC)) == date(2026, 7, 1)
    assert current_period(number, datetime(2026, 8, 1, 7, 0, tzinfo=UTC)) == date(2026, 8, 1)


def test_give_back_returns_units_to_the_month_they_came_from(seats, buy):
    number = buy(seats[0])
    with frozen(LA_JAN_31_2330):
        take(number, 5)
    give_back_allowance(number, 2, date(2026, 1, 1))
    give_back_allowance(number, 99, date(2026, 1, 1))  # more than used: ignored
    with frozen(LA_JAN_31_2330):
        assert used_this_month(number) == 3


def test_taking_whole_is_all_or_nothing(seats, buy):
    number = buy(seats[0])
    number.monthly_allowance = 5
    number.save()
    period = date(2026, 1, 1)
    with transaction.atomic():
        assert take_whole(number.pk, 5, period, 6) is False  # more than the whole allowance
        assert take_whole(number.pk, 5, period, 3) is True  # the month's row is created
        assert take_whole(number.pk, 5, period, 3) is False  # 2 left: nothing taken
        assert take_whole(number.pk, 5, period, 2) is True
    assert MonthlyUsage.objects.get(number=number, period=period).used == 5
    with transaction.atomic(), frozen(LA_JAN_31_2330):
        assert take_allowance(number, 1) == 0  # the partial path agrees
