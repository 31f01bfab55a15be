"""Who may do what on /candidates and /contacts: each route, each role, allowed and denied."""

import pytest

from hiretext.api.tests.conftest import MODEL
from hiretext.api.tests.problem import assert_problem
from hiretext.ats.models import ConsentEvent

pytestmark = pytest.mark.django_db

ROLES = ["admin", "recruiter", "manager", "nobody", "anonymous"]
READERS = {"admin", "recruiter", "manager"}
WRITERS = {"admin", "recruiter"}
KINDS = ["candidates", "contacts"]


def client_for(role, request, api_as):
    return api_as(None if role == "anonymous" else request.getfixturevalue(role))


def assert_denied(resp, role):
    if role == "anonymous":
        assert_problem(resp, 401, "unauthenticated", "Log in or send a valid bearer token.")
        assert resp["WWW-Authenticate"] == 'Bearer realm="hiretext"'

    else:
        assert_problem(resp, 403, "permission_denied", "You do not have permission to do that.")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_list_and_get(kind, role, request, api_as, make_person):
    person = make_person(kind, first_name="Ana")
    api = client_for(role, request, api_as)
    listing = api.get(f"/{kind}")
    one = api.get(f"/{kind}/{person.pk}")
    if role in READERS:
        assert listing.status_code == 200
        assert [p["id"] for p in listing.json()["items"]] == [person.pk]
        assert one.status_code == 200
        assert one.json()["first_name"] == "Ana"
    else:
        assert_denied(listing, role)
        assert_denied(one, role)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_create(kind, role, request, api_as):
    api = client_for(role, request, api_as)
    resp = api.post(f"/{kind}", {"first_name": "New", "mobile": "415 555 0199"})
    if role in WRITERS:
        assert resp.status_code == 201
        assert resp.json()["mobile"] == "+14155550199"
        assert MODEL[kind].objects.count() == 1
    else:
        assert_denied(resp, role)
        assert MODEL[kind].objects.count() == 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_update(kind, role, request, api_as, make_person):
    person = make_person(kind, last_name="Before")
    resp = client_for(role, request, api_as).patch(f"/{kind}/{person.pk}", {"last_name": "After"})
    person.refresh_from_db()
    if role in WRITERS:
        assert resp.status_code == 200
        assert resp.json()["last_name"] == "After"
        assert person.last_name == "After"
    else:
        assert_denied(resp, role)
        assert person.last_name == "Before"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_delete(kind, role, request, api_as, make_person):
    person = make_person(kind)
    resp = client_for(role, request, api_as).delete(f"/{kind}/{person.pk}")
    if role in WRITERS:
        assert resp.status_code == 204
        assert resp.content == b""
        assert not MODEL[kind].objects.exists()
    else:
        assert_denied(resp, role)
        assert MODEL[kind].objects.filter(pk=person.pk).exists()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_upsert(kind, role, request, api_as):
    resp = client_for(role, request, api_as).put(f"/{kind}/external/ats-1", {"first_name": "Up"})
    if role in WRITERS:
        assert resp.status_code == 201
        assert resp.json()["external_id"] == "ats-1"
    else:
        assert_denied(resp, role)
        assert not MODEL[kind].objects.exists()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_consent(kind, role, request, api_as, make_person):
    person = make_person(kind)
    resp = client_for(role, request, api_as).post(
        f"/{kind}/{person.pk}/consent", {"granted": True, "note": "Signed the form"}
    )
    person.refresh_from_db()
    if role in WRITERS:
        assert resp.status_code == 200
        assert resp.json()["sms_consent"] is True
        assert resp.json()["textable"] is True
        assert person.sms_consent is True
    else:
        assert_denied(resp, role)
        assert person.sms_consent is False
        assert not ConsentEvent.objects.exists()


@pytest.mark.parametrize("role", ["admin", "recruiter", "manager", "nobody"])
def test_every_member_lists_the_users_of_their_organisation(
    role, request, api_as, admin, recruiter, manager, nobody, other_admin
):
    resp = client_for(role, request, api_as).get("/users")
    assert resp.status_code == 200
    assert {u["email"] for u in resp.json()["items"]} == {
        "admin@acme.test",
        "recruiter1@acme.test",
        "manager@acme.test",
        "nobody@acme.test",
    }


def test_users_needs_authentication(api_as, db):
    assert_denied(api_as(None).get("/users"), "anonymous")


def test_an_account_without_organisation_is_refused(api_as, db, make_person):
    from hiretext.accounts.models import User

    staff = User.objects.create_user("staff@hiretext.test", "pw", is_superuser=True)
    api = api_as(staff)
    for resp in (
        api.get("/users"),
        api.get("/candidates"),
        api.post("/candidates", {"first_name": "X"}),
        api.get("/contacts/1"),
    ):
        assert_problem(
            resp, 403, "permission_denied", "This account does not belong to an organisation."
        )
