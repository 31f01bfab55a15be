"""The demo seed of DESIGN.md ("make run"): who exists, with which rights, and no duplicates."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from hiretext.accounts.demo import DEMO_PASSWORD, seed_demo
from hiretext.accounts.models import PAGE_PERMISSIONS, Organization, User
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

ALL_CUSTOM = {codename for codename, _ in Organization._meta.permissions}
PAGES = {f"accounts.{p}" for p in PAGE_PERMISSIONS}


def custom_perms(user):
    return {p for p in user.get_all_permissions() if p.split(".")[1] in ALL_CUSTOM}


def snapshot():
    return {
        model.__name__: model.objects.count()
        for model in (
            Organization,
            User,
            Group,
            Candidate,
            Contact,
            Company,
            JobPosting,
            Application,
            ConsentEvent,
            ActivityEntry,
        )
    }


@pytest.fixture
def seeded(db):
    seed_demo(log=lambda line: None)


def test_two_organisations(seeded):
    assert sorted(Organization.objects.values_list("name", flat=True)) == [
        "Acme Staffing",
        "Beacon Talent",
    ]
    acme = Organization.objects.get(name="Acme Staffing")
    assert acme.sms_help_text  # HELP replies have something to say
    assert str(acme.zone) == acme.time_zone


def test_acme_users_and_their_rights(seeded):
    acme = Organization.objects.get(name="Acme Staffing")
    emails = set(User.objects.filter(organization=acme).values_list("email", flat=True))
    assert emails == {
        "admin@acme.test",
        "recruiter1@acme.test",
        "recruiter2@acme.test",
        "recruiter3@acme.test",
        "recruiter4@acme.test",
        "manager@acme.test",
    }
    for user in User.objects.filter(organization=acme):
        assert user.check_password(DEMO_PASSWORD), user.email
        assert user.is_active
        assert not user.is_superuser
        assert user.first_name and user.last_name

    admin = User.objects.get(email="admin@acme.test")
    assert custom_perms(admin) == {f"accounts.{c}" for c in ALL_CUSTOM}
    assert [g.name for g in admin.groups.all()] == ["Administrator"]

    for i in range(1, 5):
        recruiter = User.objects.get(email=f"recruiter{i}@acme.test")
        perms = custom_perms(recruiter)
        assert "accounts.recruitment_sms" in perms
        assert perms >= PAGES
        assert "accounts.manage_text_messaging" not in perms
        assert "accounts.view_credits" not in perms
        assert [g.name for g in recruiter.groups.all()] == ["Recruiter"]

    manager = User.objects.get(email="manager@acme.test")
    assert custom_perms(manager) == PAGES
    assert [g.name for g in manager.groups.all()] == ["Hiring manager"]


def test_acme_people_jobs_and_applications(seeded):
    acme = Organization.objects.get(name="Acme Staffing")
    candidates = Candidate.objects.filter(organization=acme)
    assert candidates.count() == 8
    consenting = candidates.filter(sms_consent=True)
    assert 0 < consenting.count() < candidates.count()
    assert any(c.is_textable for c in candidates)
    assert any(not c.mobile for c in candidates)  # one cannot be texted at all
    for candidate in candidates:
        assert candidate.mobile == "" or candidate.mobile.startswith("+")
        events = ConsentEvent.objects.filter(candidate=candidate)
        if candidate.sms_consent:
            event = events.get()
            assert (event.granted, event.source) == (True, "application")
            assert ActivityEntry.objects.filter(candidate=candidate, kind="consent").count() == 1
        else:
            assert not events.exists()

    contacts = Contact.objects.filter(organization=acme)
    assert contacts.count() == 2
    assert all(c.company is not None and c.title for c in contacts)
    assert {c.sms_consent for c in contacts} == {True, False}
    consent = ConsentEvent.objects.get(contact__in=contacts)
    assert consent.note  # a user-recorded consent says how it was given

    jobs = JobPosting.objects.filter(organization=acme)
    assert jobs.count() == 3
    assert all(j.company and j.company.organization == acme for j in jobs)
    applications = Application.objects.filter(organization=acme)
    assert applications.count() == 8
    assert {a.candidate.organization for a in applications} == {acme}
    assert {a.job.organization for a in applications} == {acme}
    assert applications.values("candidate").distinct().count() == 8
    assert len({a.status for a in applications}) > 1


def test_beacon_talent(seeded):
    beacon = Organization.objects.get(name="Beacon Talent")
    admin = User.objects.get(email="admin@beacon.test")
    assert admin.organization == beacon
    assert admin.check_password(DEMO_PASSWORD)
    assert custom_perms(admin) == {f"accounts.{c}" for c in ALL_CUSTOM}
    assert Candidate.objects.filter(organization=beacon).count() >= 1
    assert JobPosting.objects.filter(organization=beacon).count() >= 1
    # Nothing of Beacon's leaks into Acme and the other way round.
    assert not Application.objects.filter(
        organization=beacon, job__organization__name="Acme Staffing"
    )
    assert set(User.objects.filter(organization=beacon).values_list("email", flat=True)) <= {
        "admin@beacon.test",
        "recruiter@beacon.test",
    }


def test_seeding_twice_duplicates_nothing(seeded):
    before = snapshot()
    lines = []
    seed_demo(log=lines.append)
    assert snapshot() == before
    assert "Acme Staffing already seeded." in lines


def test_the_demo_command_migrates_and_seeds_without_serving(db, monkeypatch):
    from hiretext.accounts.management.commands import demo

    migrations = []
    # The test database is migrated already; record that the command asks for it.
    monkeypatch.setattr(demo, "call_command", lambda *a, **kw: migrations.append(a))
    call_command("demo", seed_only=True)
    call_command("demo", seed_only=True)
    assert migrations == [("migrate",), ("migrate",)]
    assert Organization.objects.filter(name="Acme Staffing").count() == 1
    assert User.objects.filter(email="recruiter4@acme.test").count() == 1


def test_demo_users_can_log_in(seeded, client):
    assert client.login(username="recruiter1@acme.test", password=DEMO_PASSWORD)
    assert client.get("/candidates/").status_code == 200
    client.logout()
    assert client.login(username="manager@acme.test", password=DEMO_PASSWORD)
    assert client.get("/candidates/new/").status_code == 403
