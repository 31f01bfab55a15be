"""Parallel requests cannot break the seat invariants (the database has the last word).

Each thread is a separate API client with its own database connection; a Barrier releases
them together. They run on both databases: SQLite queues the writers (IMMEDIATE
transactions on a WAL file); on PostgreSQL the requests really overlap, and the row locks
and unique constraints decide.
"""

import threading
from collections import Counter

import pytest
from django.db import connections, transaction
from django.test import Client

from hiretext.accounts.models import ApiToken
from hiretext.carriers.simulator.models import SimulatorNumber
from hiretext.lib.phones import format_phone
from hiretext.numbers import services
from hiretext.numbers.allowance import take_allowance
from hiretext.numbers.models import PhoneNumber, SeatAssignment

pytestmark = pytest.mark.django_db(transaction=True)


def run_parallel(calls):
    """Run each `call()` in its own thread, all released at once; return their results."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def api_post(token, path, body):
    def call():
        response = Client().post(
            f"/api/v1{path}",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code, response.json()

    return call


@pytest.fixture
def token(admin):
    return ApiToken.issue(admin)[1]


def test_ten_parallel_assignments_to_one_number(org, seats, buy, token, make_user):
    buy(seats[0], e164="+14155550142")
    users = [make_user(f"p{i}@acme.test", first=f"P{i}") for i in range(10)]
    calls = [api_post(token, f"/seats/{seats[0].pk}/users", {"user_id": u.pk}) for u in users]
    results = run_parallel(calls)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 3, 409: 7}, results
    losers = [body for status, body in results if status == 409]
    assert {b["code"] for b in losers} == {"seat_full"}
    assert {b["detail"] for b in losers} == {"This number already has 3 users."}
    slots = sorted(SeatAssignment.objects.filter(seat=seats[0]).values_list("slot", flat=True))
    assert slots == [1, 2, 3]


def test_ten_parallel_assignments_of_one_user(org, buy, token, recruiter):
    seats = services.ensure_seats(org, 10)
    for seat in seats:
        buy(seat)
    calls = [api_post(token, f"/seats/{s.pk}/users", {"user_id": recruiter.pk}) for s in seats]
    results = run_parallel(calls)
    assert Counter(status for status, _ in results) == {201: 1, 409: 9}, results
    assignment = SeatAssignment.objects.get(user=recruiter)
    where = format_phone(PhoneNumber.objects.get(seat=assignment.seat, status="active").e164)
    for status, body in results:
        if status == 409:
            assert body["code"] == "user_already_assigned"
            assert body["detail"] == f"Dana Li is already assigned to {where}."


def test_two_parallel_purchases_of_the_same_number(
    org, other_org, seats, other_seats, token, other_admin
):
    other_token = ApiToken.issue(other_admin)[1]
    body = {"mode": "choose", "area_code": "415", "e164": "+14155550142", "terms_accepted": True}
    results = run_parallel(
        [
            api_post(token, f"/seats/{seats[0].pk}/number", body),
            api_post(other_token, f"/seats/{other_seats[0].pk}/number", body),
        ]
    )
    assert sorted(status for status, _ in results) == [201, 409], results
    loser = next(b for s, b in results if s == 409)
    assert loser["code"] == "number_unavailable"
    assert loser["detail"] == "+1 415 555 0142 is no longer available. Choose another number."
    assert PhoneNumber.objects.filter(e164="+14155550142", status="active").count() == 1
    assert PhoneNumber.objects.count() == 1
    assert SimulatorNumber.objects.filter(e164="+14155550142", held=True).count() == 1


def test_two_parallel_purchases_for_the_same_seat(org, seats, token):
    results = run_parallel(
        [
            api_post(
                token,
                f"/seats/{seats[0].pk}/number",
                {"mode": "choose", "area_code": "415", "e164": e164, "terms_accepted": True},
            )
            for e164 in ("+14155550142", "+14155550143")
        ]
    )
    assert sorted(status for status, _ in results) == [201, 409], results
    assert next(b for s, b in results if s == 409)["code"] == "seat_has_number"
    active = PhoneNumber.objects.get(seat=seats[0], status="active")
    # The loser bought nothing from the carrier: only the winner's number is held.
    assert list(SimulatorNumber.objects.values_list("e164", flat=True)) == [active.e164]


def test_parallel_sends_never_take_more_than_the_allowance(org, seats, buy):
    number = buy(seats[0])
    number.monthly_allowance = 25
    number.save()

    def take():
        with transaction.atomic():
            return take_allowance(
                PhoneNumber.objects.select_related("organization").get(pk=number.pk), 4
            )

    taken = run_parallel([take] * 10)
    assert sum(taken) == 25
    assert sorted(taken) == [0, 0, 0, 1, 4, 4, 4, 4, 4, 4]
