"""/users paging, and lists whose query count does not grow with their rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hiretext.accounts.models import Role
from hiretext.api.tests.problem import assert_problem

pytestmark = pytest.mark.django_db


def test_users_pages_and_shows_seat_ids(api_as, admin, make_user, org):
    from hiretext.numbers.models import Seat, SeatAssignment

    users = [make_user(f"u{i:02d}@acme.test", Role.RECRUITER, "U", f"{i:02d}") for i in range(7)]
    seat = Seat.objects.create(organization=org, position=1)
    SeatAssignment.objects.create(organization=org, seat=seat, user=users[0], slot=1)
    api = api_as(admin)
    seen, cursor = [], None
    while True:
        body = api.get("/users?limit=3" + (f"&cursor={cursor}" if cursor else "")).json()
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 8
    assert len({u["id"] for u in seen}) == 8
    by_email = {u["email"]: u for u in seen}
    assert by_email["u00@acme.test"]["seat_id"] == seat.pk
    assert by_email["u01@acme.test"]["seat_id"] is None
    assert by_email["u03@acme.test"]["name"] == "U 03"


def test_users_search_and_inactive_users(api_as, admin, make_user):
    gone = make_user("gone@acme.test", Role.RECRUITER, "Gone", "Away")
    gone.is_active = False
    gone.save()
    make_user("dana@acme.test", Role.RECRUITER, "Dana", "Li")
    api = api_as(admin)
    assert [u["email"] for u in api.get("/users?q=dana").json()["items"]] == ["dana@acme.test"]
    assert "gone@acme.test" not in {u["email"] for u in api.get("/users").json()["items"]}
    assert_problem(api.get("/users?cursor=%%%"), 400, "validation_error", "cursor")


def count_queries(call):
    with CaptureQueriesContext(connection) as ctx:
        resp = call()
    assert resp.status_code == 200
    return len(ctx.captured_queries)


def test_users_query_count_is_constant(
    api_as, admin, make_user, org, django_assert_max_num_queries
):
    from hiretext.numbers.models import Seat, SeatAssignment

    api = api_as(admin)
    small = count_queries(lambda: api.get("/users"))
    seat = Seat.objects.create(organization=org, position=1)
    for i in range(12):
        user = make_user(f"n{i}@acme.test")
        if i < 3:
            SeatAssignment.objects.create(organization=org, seat=seat, user=user, slot=i + 1)
    with django_assert_max_num_queries(small):
        assert len(api.get("/users").json()["items"]) == 13


@pytest.mark.parametrize("kind", ["candidates", "contacts"])
def test_people_list_query_count_is_constant(
    kind, api_as, recruiter, make_person, django_assert_max_num_queries
):
    api = api_as(recruiter)
    company = (lambda i: {"company": f"Co{i % 5}"}) if kind == "contacts" else (lambda i: {})
    make_person(kind, **company(0))
    small = count_queries(lambda: api.get(f"/{kind}"))
    for i in range(40):
        make_person(kind, first_name=f"P{i}", **company(i))
    with django_assert_max_num_queries(small):
        body = api.get(f"/{kind}").json()
    assert len(body["items"]) == 41


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("415", []),
        ("dana li", ["dana@acme.test"]),
        ("LI", ["dana@acme.test"]),
        ("acme.test", ["admin@acme.test", "dana@acme.test"]),
        ("a\x00", ["admin@acme.test", "dana@acme.test"]),
    ],
)
def test_users_search_never_500s(api_as, admin, make_user, q, expected):
    make_user("dana@acme.test", Role.RECRUITER, "Dana", "Li")
    resp = api_as(admin).get("/users", data={"q": q})
    assert resp.status_code == 200
    assert sorted(u["email"] for u in resp.json()["items"]) == expected
