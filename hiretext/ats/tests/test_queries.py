"""Reads: tenant-scoped access, search, keyset pagination and its cursors."""

import base64
import json

import pytest

from hiretext.ats import queries
from hiretext.ats.models import Application, Candidate, Company, Contact, JobPosting
from hiretext.lib.errors import DomainError, NotFound
from hiretext.lib.pagination import decode_cursor, encode_cursor, paginate

pytestmark = pytest.mark.django_db


def cursor_of(values):
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.fixture
def people(org, other_org):
    rows = [
        ("Alex", "Rivera", "alex.rivera@example.com", "+14155550101"),
        ("Bea", "Chen", "bea@chen.example", "+14155550102"),
        ("Alexandra", "Chen", "", "+16465550104"),
        ("Carlos", "Mendes", "carlos@example.com", ""),
    ]
    made = {
        first: Candidate.objects.create(
            organization=org, first_name=first, last_name=last, email=email, mobile=mobile
        )
        for first, last, email, mobile in rows
    }
    made["other"] = Candidate.objects.create(
        organization=other_org, first_name="Alex", last_name="Rivera", mobile="+14155550101"
    )
    return made


def names(rows):
    return sorted(p.first_name for p in rows)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("", ["Alex", "Alexandra", "Bea", "Carlos"]),
        ("ale", ["Alex", "Alexandra"]),
        ("ALEX", ["Alex", "Alexandra"]),
        ("chen", ["Alexandra", "Bea"]),
        ("riv", ["Alex"]),
        ("Alex Rivera", ["Alex"]),
        ("alexandra che", ["Alexandra"]),
        ("bea@chen", ["Bea"]),
        ("example.com", ["Alex", "Carlos"]),
        ("5550102", ["Bea"]),
        ("(415) 555-01", ["Alex", "Bea"]),
        ("+1 646", ["Alexandra"]),
        ("415", ["Alex", "Bea"]),
        ("nobody-matches", []),
        ("  bea  ", ["Bea"]),
        ("be\x00a", ["Bea"]),
        ("%", []),
        ("_", []),
    ],
)
def test_search_candidates(people, admin, q, expected):
    rows, next_cursor = queries.search_candidates(admin, q)
    assert names(rows) == expected
    assert next_cursor is None


def test_search_never_crosses_organisations(people, other_admin):
    rows, _ = queries.search_candidates(other_admin, "alex")
    assert [p.pk for p in rows] == [people["other"].pk]


def test_contacts_search_includes_company_and_lists_contacts_without_one(org, admin):
    acme = Company.objects.create(organization=org, name="Northwind Traders")
    Contact.objects.create(organization=org, first_name="Nora", company=acme)
    Contact.objects.create(organization=org, first_name="Omar")
    rows, _ = queries.search_contacts(admin, "")
    assert names(rows) == ["Nora", "Omar"]
    rows, _ = queries.search_contacts(admin, "northwind")
    assert names(rows) == ["Nora"]
    rows, _ = queries.search_contacts(admin, "omar")
    assert names(rows) == ["Omar"]


def test_walking_every_page_returns_each_row_once_in_order(org, admin):
    # Repeated last and first names make the id the tie-breaker.
    for i in range(23):
        Candidate.objects.create(
            organization=org, first_name=f"F{i % 3}", last_name=["Zed", "Adams", "Moss"][i % 3]
        )
    expected = list(
        Candidate.objects.order_by("last_name", "first_name", "id").values_list("id", flat=True)
    )
    seen, cursor, pages = [], None, 0
    while True:
        rows, cursor = queries.search_candidates(admin, "", cursor, limit=5)
        pages += 1
        seen.extend(p.pk for p in rows)
        assert len(rows) <= 5
        if cursor is None:
            break
    assert seen == expected
    assert pages == 5


def test_exact_multiple_of_the_page_size_ends_with_a_null_cursor(org, admin):
    for i in range(4):
        Candidate.objects.create(organization=org, first_name=f"P{i}")
    rows, cursor = queries.search_candidates(admin, "", None, limit=2)
    rows2, cursor2 = queries.search_candidates(admin, "", cursor, limit=2)
    assert cursor2 is None
    assert len(rows) + len(rows2) == 4


def test_descending_pagination(org):
    for i in range(5):
        Candidate.objects.create(organization=org, first_name=f"P{i}")
    qs = Candidate.objects.all()
    first, cursor = paginate(qs, ["id"], None, descending=True, limit=3)
    second, end = paginate(qs, ["id"], cursor, descending=True, limit=3)
    ids = [p.pk for p in first + second]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 5
    assert end is None


def test_cursor_round_trip():
    assert decode_cursor(encode_cursor(["Chen", "Bea", 7]), 3) == ["Chen", "Bea", 7]


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        "e30",  # {}
        cursor_of(["Chen", "Bea"]),  # wrong arity
        cursor_of(["Chen", "Bea", None]),
        cursor_of(["Chen", "Bea", 1.5]),
        cursor_of(["Chen", "Bea", True]),
        cursor_of(["Chen", "Bea", [1]]),
        cursor_of(["Chen", "Bea", 2**64]),
        cursor_of(["Ch\x00en", "Bea", 1]),
        cursor_of(["Chen", "Bea", "not-an-id"]),
        "A" * 513,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_bad_cursors_are_validation_errors(org, admin, cursor):
    with pytest.raises(DomainError) as caught:
        queries.search_candidates(admin, "", cursor)
    assert caught.value.code == "validation_error"
    assert caught.value.message == "That cursor is not valid."
    assert caught.value.errors == {"cursor": ["Invalid cursor."]}


def test_access_helpers_hide_other_organisations(org, other_org, admin, other_admin):
    mine = Candidate.objects.create(organization=org, first_name="A")
    contact = Contact.objects.create(organization=org, first_name="B")
    job = JobPosting.objects.create(organization=org, title="Nurse")
    assert queries.access_candidate(admin, mine.pk) == mine
    assert queries.access_contact(admin, contact.pk) == contact
    assert queries.access_job(admin, job.pk) == job
    for access, pk, message in [
        (queries.access_candidate, mine.pk, "No such candidate."),
        (queries.access_contact, contact.pk, "No such contact."),
        (queries.access_job, job.pk, "No such job posting."),
    ]:
        with pytest.raises(NotFound) as caught:
            access(other_admin, pk)
        assert caught.value.message == message
        for bad in (0, -1, 2**63, 10**30):
            with pytest.raises(NotFound):
                access(admin, bad)


def test_a_user_without_organisation_sees_nothing(org):
    from hiretext.accounts.models import User

    staff = User.objects.create_user("staff@hiretext.test", "pw", is_superuser=True)
    mine = Candidate.objects.create(organization=org, first_name="A")
    with pytest.raises(NotFound):
        queries.access_candidate(staff, mine.pk)
    with pytest.raises(NotFound):
        queries.search_candidates(staff)


def test_job_list_puts_open_postings_first_and_counts_applicants(org, other_org, admin):
    closed = JobPosting.objects.create(organization=org, title="Old", status="closed")
    older = JobPosting.objects.create(organization=org, title="Older open")
    newer = JobPosting.objects.create(organization=org, title="Newer open")
    JobPosting.objects.create(organization=other_org, title="Theirs")
    for i in range(3):
        c = Candidate.objects.create(organization=org, first_name=f"C{i}")
        Application.objects.create(organization=org, candidate=c, job=older)
    jobs = list(queries.list_jobs(admin))
    assert [j.title for j in jobs] == [newer.title, older.title, closed.title]
    assert [j.applicant_count for j in jobs] == [0, 3, 0]


def test_timeline_is_newest_first_and_limited(org, admin):
    from hiretext.ats.services import log_activity

    person = Candidate.objects.create(organization=org, first_name="A")
    for i in range(5):
        log_activity(person, "note", f"n{i}", actor=admin)
    entries = queries.timeline(person, limit=3)
    assert [e.summary for e in entries] == ["n4", "n3", "n2"]
