"""Each page for each role: allowed, denied (403), anonymous (login), other organisation (404)."""

import pytest
from django.urls import reverse

from hiretext.ats.models import Candidate, ConsentEvent, Contact

pytestmark = pytest.mark.django_db

ROLES = ["admin", "recruiter", "manager", "nobody"]
VIEWERS = {"admin", "recruiter", "manager"}
EDITORS = {"admin", "recruiter"}

# (url name, record the url takes or None, roles allowed)
PAGES = [
    ("job-list", None, VIEWERS),
    ("job-detail", "job", VIEWERS),
    ("candidate-pool", None, VIEWERS),
    ("candidate-profile", "candidate", VIEWERS),
    ("candidate-create", None, EDITORS),
    ("candidate-edit", "candidate", EDITORS),
    ("contact-list", None, VIEWERS),
    ("contact-profile", "contact", VIEWERS),
    ("contact-create", None, EDITORS),
    ("contact-edit", "contact", EDITORS),
]
CONSENT = [("candidate-consent", "candidate"), ("contact-consent", "contact")]


def url(name, key, records):
    return reverse(name, args=[records[key].pk]) if key else reverse(name)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "key", "allowed"), PAGES)
def test_pages_by_role(role, name, key, allowed, request, login, records):
    resp = login(request.getfixturevalue(role)).get(url(name, key, records))
    if role in allowed:
        assert resp.status_code == 200
    else:
        assert resp.status_code == 403
        assert b"You don't have access to this page" in resp.content


@pytest.mark.parametrize(("name", "key", "allowed"), PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, name, key, allowed, records):
    path = url(name, key, records)
    resp = client.get(path)
    assert resp.status_code == 302
    assert resp["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
@pytest.mark.parametrize(("name", "key"), CONSENT)
def test_consent_post_by_role(role, name, key, request, client, records):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    resp = client.post(url(name, key, records), {"granted": "on", "note": "Agreed by phone"})
    person = records[key]
    person.refresh_from_db()
    if role in EDITORS:
        assert resp.status_code == 302
        assert resp["Location"] == person_url(person)
        assert person.sms_consent is True
        assert ConsentEvent.objects.count() == 1
    else:
        assert resp.status_code == (302 if role == "anonymous" else 403)
        if role == "anonymous":
            assert resp["Location"].startswith("/login/")
        assert person.sms_consent is False
        assert ConsentEvent.objects.count() == 0


def person_url(person):
    name = "candidate-profile" if isinstance(person, Candidate) else "contact-profile"
    return reverse(name, args=[person.pk])


@pytest.mark.parametrize("role", ["manager", "nobody"])
@pytest.mark.parametrize(
    ("name", "key", "model"),
    [
        ("candidate-create", None, Candidate),
        ("candidate-edit", "candidate", Candidate),
        ("contact-create", None, Contact),
        ("contact-edit", "contact", Contact),
    ],
)
def test_denied_form_posts_write_nothing(role, name, key, model, request, login, records):
    before = model.objects.count()
    resp = login(request.getfixturevalue(role)).post(
        url(name, key, records), {"first_name": "Changed"}
    )
    assert resp.status_code == 403
    assert model.objects.count() == before
    assert not model.objects.filter(first_name="Changed").exists()


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("job-detail", "job"),
        ("candidate-profile", "candidate"),
        ("candidate-edit", "candidate"),
        ("contact-profile", "contact"),
        ("contact-edit", "contact"),
    ],
)
def test_other_organisations_records_are_not_found(name, key, login, admin, theirs):
    assert login(admin).get(url(name, key, theirs)).status_code == 404


@pytest.mark.parametrize(
    ("name", "key"),
    [("candidate-edit", "candidate"), ("contact-edit", "contact"), *CONSENT],
)
def test_posts_to_other_organisations_records_are_not_found(name, key, login, admin, theirs):
    resp = login(admin).post(
        url(name, key, theirs), {"first_name": "Mine", "granted": "on", "note": "x"}
    )
    assert resp.status_code == 404
    person = theirs[key]
    person.refresh_from_db()
    assert (person.first_name, person.sms_consent) == ("Theirs", False)
    assert ConsentEvent.objects.count() == 0


def test_lists_show_only_my_organisation(login, admin, records, theirs):
    client = login(admin)
    for name in ("candidate-pool", "contact-list", "job-list"):
        content = client.get(reverse(name)).content.decode()
        assert "Theirs" not in content
        assert "Their job" not in content
    assert "Ana Lima" in client.get(reverse("candidate-pool")).content.decode()
    assert "Nurse" in client.get(reverse("job-list")).content.decode()


@pytest.mark.parametrize("path", ["/jobs/99999999999999999999/", "/candidates/0/"])
def test_impossible_ids_are_not_found(login, admin, path):
    assert login(admin).get(path).status_code == 404


def test_a_user_without_organisation_gets_403(client, records):
    from hiretext.accounts.models import User

    staff = User.objects.create_user("staff@hiretext.test", "pw", is_superuser=True)
    client.force_login(staff)
    assert client.get(reverse("candidate-pool")).status_code == 403
    assert (
        client.get(reverse("candidate-profile", args=[records["candidate"].pk])).status_code == 403
    )


@pytest.mark.parametrize(
    ("role", "target"),
    [("admin", "/candidates/"), ("recruiter", "/candidates/"), ("manager", "/candidates/")],
)
def test_home_sends_each_role_to_its_first_page(role, target, request, login):
    resp = login(request.getfixturevalue(role)).get("/")
    assert resp.status_code == 302
    assert resp["Location"] == target


def test_home_for_anonymous_and_for_no_role(client, nobody):
    assert client.get("/")["Location"] == "/login/"
    client.force_login(nobody)
    assert client.get("/").status_code == 403


def test_home_picks_the_first_page_the_user_may_see(client, make_user):
    from django.contrib.auth.models import Permission

    user = make_user("jobs-only@acme.test", role=None)
    user.user_permissions.add(Permission.objects.get(codename="view_contacts_page"))
    client.force_login(user)
    assert client.get("/")["Location"] == "/contacts/"


def test_an_expired_session_during_htmx_sends_the_whole_page_to_log_in(client, records):
    resp = client.get(
        reverse("candidate-pool"),
        {"cursor": "abc"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/candidates/?q=ana"},
    )
    assert resp.status_code == 200
    assert resp["HX-Redirect"] == "/login/?next=/candidates/%3Fq%3Dana"
    assert resp.content == b""
