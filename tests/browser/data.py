"""Seed data for the browser tests, made through the services (as the pages would) and factories."""

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from hiretext.ats import services
from hiretext.ats.models import ActivityEntry, Application, Candidate, ConsentEvent, Contact
from tests.factories import (
    ApplicationFactory,
    CandidateFactory,
    CompanyFactory,
    JobPostingFactory,
)

FILLERS = 30  # with the named candidates, more than one page of 25


@dataclass
class Seeded:
    alex: Candidate
    bea: Candidate
    carlos: Candidate
    nora: Contact
    job_ids: dict[str, int] = field(default_factory=dict)
    candidate_count: int = 0


def seed_org(org, recruiter) -> Seeded:
    """An organisation with consented and unconsented candidates, fillers, jobs and a contact."""
    alex = services.create_person(
        Candidate,
        org,
        recruiter,
        {
            "first_name": "Alex",
            "last_name": "Rivera",
            "email": "alex.rivera@example.com",
            "mobile": "(415) 555-0101",
        },
        sms_consent=True,
        consent_note="Agreed by phone on 3 March",
    )
    services.log_activity(
        alex,
        ActivityEntry.Kind.SMS_OUT,
        "SMS sent",
        body="Hi Alex, are you free for a call tomorrow?",
        actor=recruiter,
    )
    bea = services.create_person(
        Candidate,
        org,
        None,
        {
            "first_name": "Bea",
            "last_name": "Chen",
            "email": "bea.chen@example.com",
            "mobile": "+16465550123",
        },
    )
    carlos = services.create_person(
        Candidate,
        org,
        None,
        {
            "first_name": "Carlos",
            "last_name": "Mendes",
            "email": "carlos@example.com",
            "mobile": "+13125550103",
        },
        sms_consent=True,
        consent_source=ConsentEvent.Source.APPLICATION,
    )
    for i in range(1, FILLERS + 1):
        CandidateFactory(
            organization=org,
            first_name=f"Filler{i:02d}",
            last_name="Zimmer",
            email=f"filler{i:02d}@example.net",
            mobile=f"+1206555{200 + i:04d}",
            sms_consent=False,
        )
    northwind = CompanyFactory(organization=org, name="Northwind Traders")
    backend = JobPostingFactory(
        organization=org,
        title="Senior Backend Engineer",
        location="San Francisco, CA",
        company=northwind,
        description="Python and PostgreSQL.\nHybrid, two days a week in the office.",
    )
    nurse = JobPostingFactory(
        organization=org, title="Night Nurse", location="Portland, OR", status="closed"
    )
    ApplicationFactory(
        organization=org, candidate=alex, job=backend, status=Application.Status.INTERVIEW
    )
    ApplicationFactory(organization=org, candidate=bea, job=backend)
    ApplicationFactory(
        organization=org, candidate=carlos, job=backend, status=Application.Status.REJECTED
    )
    nora = services.create_person(
        Contact,
        org,
        recruiter,
        {
            "first_name": "Nora",
            "last_name": "Quinn",
            "email": "nora.quinn@northwind.example",
            "mobile": "+14155550111",
            "company_name": "Northwind Traders",
            "title": "Engineering Manager",
        },
        sms_consent=True,
        consent_note="Asked us to text her",
    )
    return Seeded(
        alex=alex,
        bea=bea,
        carlos=carlos,
        nora=nora,
        job_ids={"backend": backend.pk, "nurse": nurse.pk},
        candidate_count=3 + FILLERS,
    )


def shown_time(moment: datetime, zone: ZoneInfo) -> str:
    """How the pages print a time: in the organisation's zone with its abbreviation."""
    local = moment.astimezone(zone)
    return f"{local:%b} {local.day}, {local:%Y %H:%M %Z}"
