"""Forms, consent, CSRF, escaping, paging and query counts on the people and job pages."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hiretext.ats import services
from hiretext.ats.models import (
    ActivityEntry,
    Application,
    Candidate,
    Company,
    ConsentEvent,
    Contact,
    JobPosting,
)

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


def counts():
    return (
        Candidate.objects.count(),
        Contact.objects.count(),
        Company.objects.count(),
        ConsentEvent.objects.count(),
        ActivityEntry.objects.count(),
    )


def flash(resp):
    return [str(m) for m in resp.context["messages"]] if resp.context else []


@pytest.fixture
def recruiter_client(client, recruiter):
    client.force_login(recruiter)
    return client


# --- create and edit -------------------------------------------------------------------


def test_create_candidate_with_consent(recruiter_client, recruiter):
    resp = recruiter_client.post(
        reverse("candidate-create"),
        {
            "first_name": "Ana",
            "last_name": "Lima",
            "email": "ana@example.com",
            "mobile": "(415) 555-0142",
            "time_zone": "America/Chicago",
            "sms_consent": "on",
            "consent_note": "Agreed on the phone",
        },
        follow=True,
    )
    person = Candidate.objects.get()
    assert resp.redirect_chain == [(reverse("candidate-profile", args=[person.pk]), 302)]
    assert person.mobile == "+14155550142"
    assert person.is_textable
    event = ConsentEvent.objects.get(candidate=person)
    assert (event.source, event.actor, event.note) == ("user", recruiter, "Agreed on the phone")
    assert "Ana Lima was added." in flash(resp)
    content = resp.content.decode()
    assert "+1 415 555 0142" in content
    assert "Agreed on the phone" in content


def test_create_contact_with_company(recruiter_client):
    resp = recruiter_client.post(
        reverse("contact-create"),
        {"first_name": "Nora", "company_name": "Northwind", "title": "CTO"},
    )
    contact = Contact.objects.get()
    assert resp.status_code == 302
    assert (contact.company.name, contact.title) == ("Northwind", "CTO")
    assert contact.sms_consent is False


@pytest.mark.parametrize("name", ["candidate-create", "contact-create"])
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"first_name": "Ana", "mobile": "12345"},
            "mobile",
            "“12345” is not a valid phone number.",
        ),
        ({"first_name": "Ana", "mobile": "call me"}, "mobile", "“call me” is not a phone number."),
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"first_name": "   "}, "first_name", "This field is required."),
        (
            {"first_name": "x" * 101},
            "first_name",
            "Ensure this value has at most 100 characters (it has 101).",
        ),
        ({"first_name": "Ana", "email": "nope"}, "email", "Enter a valid email address."),
        (
            {"first_name": "Ana", "time_zone": "Mars/Base"},
            "time_zone",
            "“Mars/Base” is not a known time zone.",
        ),
        ({"first_name": "A\x00na"}, "first_name", "Null characters are not allowed."),
        (
            {"first_name": "Ana", "mobile": "4" * 41},
            "mobile",
            "Ensure this value has at most 40 characters (it has 41).",
        ),
    ],
)
def test_create_field_errors_are_shown_and_nothing_is_saved(
    recruiter_client, name, data, field, message
):
    before = counts()
    resp = recruiter_client.post(reverse(name), data)
    assert resp.status_code == 400
    assert resp.context["form"].errors[field] == [message]
    assert message.replace("“", "&ldquo;") in resp.content.decode() or message in (
        resp.content.decode()
    )
    assert counts() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"sms_consent": "on", "consent_note": ""},
            "Add a note saying how the person gave consent.",
        ),
        ({"sms_consent": "on", "consent_note": "   "}, "Add a note saying how"),
        (
            {"sms_consent": "on", "consent_note": "x" * 501},
            "The note is too long (500 characters at most).",
        ),
    ],
)
def test_create_consent_errors_save_nothing(recruiter_client, data, message):
    before = counts()
    resp = recruiter_client.post(reverse("candidate-create"), {"first_name": "Ana", **data})
    assert resp.status_code == 400
    assert any(message in e for e in resp.context["form"].non_field_errors())
    assert message in resp.content.decode()
    assert counts() == before


def test_create_with_a_taken_external_id(recruiter_client, org):
    Candidate.objects.create(organization=org, first_name="Old", external_id="ats-1")
    before = counts()
    resp = recruiter_client.post(
        reverse("candidate-create"), {"first_name": "Ana", "external_id": "ats-1"}
    )
    assert resp.status_code == 400
    message = "Another record of this organisation already has that external id."
    assert resp.context["form"].non_field_errors() == [message]
    assert message in resp.content.decode()
    assert counts() == before


def test_contact_company_name_too_long(recruiter_client):
    before = counts()
    resp = recruiter_client.post(
        reverse("contact-create"), {"first_name": "Nora", "company_name": "c" * 201}
    )
    assert resp.status_code == 400
    assert resp.context["form"].errors["company_name"] == [
        "Ensure this value has at most 200 characters (it has 201)."
    ]
    assert counts() == before


def test_oversized_form_post_is_refused_without_a_write(recruiter_client):
    before = counts()
    resp = recruiter_client.post(
        reverse("candidate-create"), {"first_name": "Ana", "last_name": "x" * 1_100_000}
    )
    assert resp.status_code == 400
    assert counts() == before


def test_edit_saves_and_keeps_consent(recruiter_client, org, admin):
    person = services.create_person(
        Candidate,
        org,
        admin,
        {"first_name": "Ana", "mobile": "+14155550142"},
        sms_consent=True,
        consent_note="Form",
    )
    edit = recruiter_client.get(reverse("candidate-edit", args=[person.pk]))
    assert edit.context["form"]["mobile"].value() == "+14155550142"
    resp = recruiter_client.post(
        reverse("candidate-edit", args=[person.pk]),
        {"first_name": "Ana", "last_name": "Silva", "mobile": "415-555-0199"},
        follow=True,
    )
    assert "Changes saved." in flash(resp)
    person.refresh_from_db()
    assert (person.last_name, person.mobile, person.sms_consent) == ("Silva", "+14155550199", True)


def test_edit_refusal_changes_nothing_and_shows_the_saved_name(recruiter_client, org):
    person = Candidate.objects.create(organization=org, first_name="Ana", mobile="+14155550142")
    before = counts()
    resp = recruiter_client.post(
        reverse("candidate-edit", args=[person.pk]), {"first_name": "Zed", "mobile": "12"}
    )
    assert resp.status_code == 400
    assert resp.context["form"].errors["mobile"] == ["“12” is not a valid phone number."]
    assert resp.context["person"].first_name == "Ana"
    assert resp.context["form"]["first_name"].value() == "Zed"  # what was typed stays
    person.refresh_from_db()
    assert (person.first_name, person.mobile) == ("Ana", "+14155550142")
    assert counts() == before


def test_edit_contact_clears_company(recruiter_client, org):
    company = Company.objects.create(organization=org, name="Northwind")
    contact = Contact.objects.create(organization=org, first_name="Nora", company=company)
    form = recruiter_client.get(reverse("contact-edit", args=[contact.pk])).context["form"]
    assert form["company_name"].value() == "Northwind"
    recruiter_client.post(
        reverse("contact-edit", args=[contact.pk]), {"first_name": "Nora", "company_name": ""}
    )
    contact.refresh_from_db()
    assert contact.company is None


# --- consent ---------------------------------------------------------------------------


@pytest.fixture
def ana(org):
    return Candidate.objects.create(organization=org, first_name="Ana", mobile="+14155550142")


def test_recording_and_withdrawing_consent(recruiter_client, recruiter, ana):
    url = reverse("candidate-consent", args=[ana.pk])
    resp = recruiter_client.post(url, {"granted": "on", "note": " Agreed by phone "}, follow=True)
    assert "SMS consent recorded." in flash(resp)
    ana.refresh_from_db()
    assert ana.is_textable
    resp = recruiter_client.post(url, {"granted": "", "note": ""}, follow=True)
    assert "SMS consent withdrawn." in flash(resp)
    ana.refresh_from_db()
    assert (ana.sms_consent, ana.sms_opted_out) == (False, False)
    events = list(ConsentEvent.objects.order_by("id"))
    assert [(e.granted, e.source, e.note, e.actor) for e in events] == [
        (True, "user", "Agreed by phone", recruiter),
        (False, "user", "", recruiter),
    ]
    timeline = [e.summary for e in resp.context["timeline"]]
    assert timeline[:2] == [
        "SMS consent withdrawn (Set by a user)",
        "SMS consent given (Set by a user)",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"granted": "on", "note": ""}, "Add a note saying how the person gave consent."),
        ({"granted": "on"}, "Add a note saying how the person gave consent."),
        ({"granted": "on", "note": "x" * 501}, "Note: Ensure this value has at most 500"),
        ({"granted": "on", "note": "a\x00b"}, "Note: Null characters are not allowed."),
    ],
)
def test_consent_refusals_write_nothing(recruiter_client, ana, data, message):
    before = counts()
    resp = recruiter_client.post(reverse("candidate-consent", args=[ana.pk]), data, follow=True)
    assert resp.redirect_chain[-1][0] == reverse("candidate-profile", args=[ana.pk])
    assert any(message in m for m in flash(resp))
    assert counts() == before
    ana.refresh_from_db()
    assert ana.sms_consent is False


def test_consent_url_accepts_only_post(recruiter_client, ana):
    assert recruiter_client.get(reverse("candidate-consent", args=[ana.pk])).status_code == 405


def test_contact_consent(recruiter_client, org):
    contact = Contact.objects.create(organization=org, first_name="Nora", mobile="+13125550112")
    resp = recruiter_client.post(
        reverse("contact-consent", args=[contact.pk]), {"granted": "on", "note": "Email"}
    )
    assert resp["Location"] == reverse("contact-profile", args=[contact.pk])
    assert ConsentEvent.objects.get().contact == contact


# --- CSRF ------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(recruiter):
    client = Client(enforce_csrf_checks=True)
    client.force_login(recruiter)
    client.get(reverse("candidate-pool"))
    return client


@pytest.mark.parametrize(
    ("name", "needs", "data"),
    [
        ("candidate-create", None, {"first_name": "Ana"}),
        ("contact-create", None, {"first_name": "Nora"}),
        ("candidate-edit", "candidate", {"first_name": "Changed"}),
        ("contact-edit", "contact", {"first_name": "Changed"}),
        ("candidate-consent", "candidate", {"granted": "on", "note": "x"}),
        ("contact-consent", "contact", {"granted": "on", "note": "x"}),
    ],
)
def test_page_posts_need_the_csrf_token(csrf_client, org, name, needs, data):
    person = None
    if needs == "candidate":
        person = Candidate.objects.create(organization=org, first_name="Ana")
    elif needs == "contact":
        person = Contact.objects.create(organization=org, first_name="Nora")
    url = reverse(name, args=[person.pk]) if person else reverse(name)
    before = counts()
    assert csrf_client.post(url, data).status_code == 403
    assert counts() == before
    if person:
        person.refresh_from_db()
        assert person.first_name in ("Ana", "Nora")
    token = csrf_client.cookies["csrftoken"].value
    resp = csrf_client.post(url, {**data, "csrfmiddlewaretoken": token})
    assert resp.status_code == 302
    if name.endswith("-edit"):
        person.refresh_from_db()
        assert person.first_name == "Changed"
    else:
        assert counts() != before


def test_htmx_header_token_is_accepted(csrf_client):
    token = csrf_client.cookies["csrftoken"].value
    resp = csrf_client.post(
        reverse("candidate-create"), {"first_name": "Ana"}, headers={"X-CSRFToken": token}
    )
    assert resp.status_code == 302


def test_login_needs_the_csrf_token(recruiter):
    client = Client(enforce_csrf_checks=True)
    data = {"username": "recruiter1@acme.test", "password": "pw-123456"}
    assert client.post("/login/", data).status_code == 403
    client.get("/login/")
    data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    resp = client.post("/login/", data)
    assert resp.status_code == 302
    assert client.get(reverse("candidate-pool")).status_code == 200


# --- hostile content -------------------------------------------------------------------


def test_hostile_names_are_escaped_everywhere(recruiter_client, org, recruiter):
    resp = recruiter_client.post(
        reverse("candidate-create"),
        {
            "first_name": HOSTILE,
            "last_name": "<b>bold</b>",
            "sms_consent": "on",
            "consent_note": "<img src=x onerror=alert(1)>",
        },
        follow=True,
    )
    person = Candidate.objects.get()
    assert person.first_name == HOSTILE  # stored as typed
    company = Company.objects.create(organization=org, name=HOSTILE)
    Contact.objects.create(organization=org, first_name=HOSTILE, company=company, title=HOSTILE)
    job = JobPosting.objects.create(
        organization=org, title=HOSTILE, location=HOSTILE, description=HOSTILE, company=company
    )
    Application.objects.create(organization=org, candidate=person, job=job)
    pages = [
        resp,
        recruiter_client.get(reverse("candidate-pool")),
        recruiter_client.get(reverse("candidate-pool"), {"q": HOSTILE}),
        recruiter_client.get(reverse("candidate-pool"), {"q": "<i>nothing</i>"}),
        recruiter_client.get(reverse("candidate-edit", args=[person.pk])),
        recruiter_client.get(reverse("contact-list")),
        recruiter_client.get(reverse("contact-profile", args=[Contact.objects.get().pk])),
        recruiter_client.get(reverse("job-list")),
        recruiter_client.get(reverse("job-detail", args=[job.pk])),
    ]
    for page in pages:
        content = page.content.decode()
        assert page.status_code == 200
        assert HOSTILE not in content
        assert "<b>bold</b>" not in content
        assert "<img src=x" not in content
        assert "<i>nothing</i>" not in content
    assert ESCAPED in pages[0].content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[0].content.decode()
    assert any(ESCAPED in m or HOSTILE in m for m in flash(resp))  # message escaped on render


# --- lists, paging, search -------------------------------------------------------------


def test_pool_pages_cover_every_candidate_once(recruiter_client, org):
    for i in range(60):
        Candidate.objects.create(
            organization=org, first_name=f"F{i % 7}", last_name=["Adams", "Moss", "Zed"][i % 3]
        )
    seen, cursor, pages = [], None, 0
    while True:
        params = {"cursor": cursor} if cursor else {}
        resp = recruiter_client.get(reverse("candidate-pool"), params)
        assert resp.status_code == 200
        seen.extend(p.pk for p in resp.context["people"])
        cursor = resp.context["next_cursor"]
        pages += 1
        if cursor is None:
            break
        assert cursor in resp.content.decode()  # the "Show more" link carries it
    expected = list(
        Candidate.objects.order_by("last_name", "first_name", "id").values_list("id", flat=True)
    )
    assert seen == expected
    assert pages == 3


def test_htmx_show_more_returns_rows_only(recruiter_client, org):
    for i in range(30):
        Candidate.objects.create(organization=org, first_name=f"P{i:02d}")
    first = recruiter_client.get(reverse("candidate-pool"))
    more = recruiter_client.get(
        reverse("candidate-pool"),
        {"cursor": first.context["next_cursor"]},
        headers={"HX-Request": "true"},
    )
    assert more.status_code == 200
    assert b"<html" not in more.content
    assert len(more.context["people"]) == 5


def test_bad_pool_cursor_starts_again(recruiter_client, org):
    Candidate.objects.create(organization=org, first_name="Ana")
    for cursor in ("garbage", "WyJhIiwiYiIsIngiXQ", "A" * 600):
        resp = recruiter_client.get(reverse("candidate-pool"), {"cursor": cursor})
        assert resp.status_code == 200
        assert [p.first_name for p in resp.context["people"]] == ["Ana"]
        assert "That page link is no longer valid; showing the first page." in flash(resp)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ana", ["Ana"]),
        ("ana lima", ["Ana"]),
        ("LIM", ["Ana"]),
        ("bo@x", ["Bo"]),
        ("(415) 555-0199", ["Bo"]),
        ("0199", ["Bo"]),
        ("zzz", []),
    ],
)
def test_pool_search(recruiter_client, org, q, expected):
    Candidate.objects.create(organization=org, first_name="Ana", last_name="Lima")
    Candidate.objects.create(
        organization=org, first_name="Bo", email="bo@x.example", mobile="+14155550199"
    )
    resp = recruiter_client.get(reverse("candidate-pool"), {"q": q})
    assert [p.first_name for p in resp.context["people"]] == expected
    if not expected:
        assert "No candidates match" in resp.content.decode()


def test_contact_list_search_by_company(recruiter_client, org):
    company = Company.objects.create(organization=org, name="Northwind")
    Contact.objects.create(organization=org, first_name="Nora", company=company)
    Contact.objects.create(organization=org, first_name="Omar")
    all_rows = recruiter_client.get(reverse("contact-list")).context["people"]
    assert sorted(p.first_name for p in all_rows) == ["Nora", "Omar"]
    found = recruiter_client.get(reverse("contact-list"), {"q": "north"}).context["people"]
    assert [p.first_name for p in found] == ["Nora"]


def test_empty_states(recruiter_client):
    assert "No candidates yet." in recruiter_client.get(reverse("candidate-pool")).content.decode()
    assert "No contacts yet." in recruiter_client.get(reverse("contact-list")).content.decode()
    assert "No job postings yet." in recruiter_client.get(reverse("job-list")).content.decode()


def test_job_list_shows_open_first_with_applicant_counts(recruiter_client, org):
    closed = JobPosting.objects.create(organization=org, title="Closed one", status="closed")
    open_job = JobPosting.objects.create(organization=org, title="Open one")
    for i in range(2):
        c = Candidate.objects.create(organization=org, first_name=f"C{i}")
        Application.objects.create(organization=org, candidate=c, job=closed)
    jobs = list(recruiter_client.get(reverse("job-list")).context["jobs"])
    assert [(j.title, j.applicant_count) for j in jobs] == [("Open one", 0), ("Closed one", 2)]
    assert open_job in jobs


def test_job_detail_lists_applicants(recruiter_client, org):
    job = JobPosting.objects.create(organization=org, title="Nurse")
    for name in ("Zoe", "Ana"):
        c = Candidate.objects.create(organization=org, first_name=name, last_name=name)
        Application.objects.create(organization=org, candidate=c, job=job)
    resp = recruiter_client.get(reverse("job-detail", args=[job.pk]))
    assert [a.candidate.first_name for a in resp.context["applications"]] == ["Ana", "Zoe"]


# --- query counts ----------------------------------------------------------------------


def queries_for(client, path):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(path)
    assert resp.status_code == 200
    return len(ctx.captured_queries)


def grow(org, n, job=None):
    company = Company.objects.get_or_create(organization=org, name="Co")[0]
    for i in range(n):
        c = Candidate.objects.create(
            organization=org, first_name=f"P{i}", mobile="+14155550142", sms_consent=True
        )
        Contact.objects.create(organization=org, first_name=f"K{i}", company=company)
        services.log_activity(c, "note", "n")
        if job:
            Application.objects.create(organization=org, candidate=c, job=job)
        j = JobPosting.objects.create(organization=org, title=f"J{i}", company=company)
        Application.objects.create(organization=org, candidate=c, job=j)


@pytest.mark.parametrize("name", ["candidate-pool", "contact-list", "job-list", "job-detail"])
def test_list_pages_query_count_does_not_grow(
    recruiter_client, org, name, django_assert_max_num_queries
):
    job = JobPosting.objects.create(organization=org, title="Main")
    path = reverse(name, args=[job.pk]) if name == "job-detail" else reverse(name)
    grow(org, 2, job)
    small = queries_for(recruiter_client, path)
    grow(org, 22, job)
    with django_assert_max_num_queries(small):
        resp = recruiter_client.get(path)
    assert resp.status_code == 200


def test_profile_query_count_does_not_grow(
    recruiter_client, org, recruiter, django_assert_max_num_queries
):
    person = Candidate.objects.create(organization=org, first_name="Ana", mobile="+14155550142")
    path = reverse("candidate-profile", args=[person.pk])

    def add(n):
        for i in range(n):
            services.set_consent(person, i % 2 == 0, source="user", note="n", actor=recruiter)
            job = JobPosting.objects.create(organization=org, title=f"J{i}")
            Application.objects.create(organization=org, candidate=person, job=job)

    add(1)
    small = queries_for(recruiter_client, path)
    add(15)
    with django_assert_max_num_queries(small):
        recruiter_client.get(path)


@pytest.mark.parametrize(
    "params", [{"q": "a\x00b"}, {"q": "x" * 5000}, {"cursor": "a\x00b"}, {"q": "%_\\"}]
)
def test_odd_search_input_is_harmless(recruiter_client, org, params):
    Candidate.objects.create(organization=org, first_name="Ana")
    for name in ("candidate-pool", "contact-list"):
        assert recruiter_client.get(reverse(name), params).status_code == 200


def test_times_are_shown_in_the_organisations_zone(recruiter_client, org, ana):
    import datetime as dt

    entry = services.log_activity(ana, "note", "Called")
    stamp = dt.datetime(2026, 1, 15, 20, 30, tzinfo=dt.UTC)  # 12:30 in Los Angeles
    ActivityEntry.objects.filter(pk=entry.pk).update(created_at=stamp)
    content = recruiter_client.get(reverse("candidate-profile", args=[ana.pk])).content.decode()
    assert "12:30" in content
    assert "20:30" not in content
