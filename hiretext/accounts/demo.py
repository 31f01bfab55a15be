"""The demo data of DESIGN.md: Acme Staffing and Beacon Talent. Idempotent."""

from collections.abc import Callable

from django.db import transaction

from hiretext.accounts.models import Organization, Role, User
from hiretext.accounts.services import create_user, ensure_roles
from hiretext.ats.models import Application, Candidate, Company, ConsentEvent, Contact, JobPosting
from hiretext.ats.services import create_person
from hiretext.numbers.services import ensure_seats

DEMO_PASSWORD = "demo"

ACME_USERS = [
    ("admin@acme.test", "Avery", "Admin", Role.ADMINISTRATOR),
    ("recruiter1@acme.test", "Dana", "Li", Role.RECRUITER),
    ("recruiter2@acme.test", "Sam", "Ortiz", Role.RECRUITER),
    ("recruiter3@acme.test", "Priya", "Nair", Role.RECRUITER),
    ("recruiter4@acme.test", "Jonas", "Berg", Role.RECRUITER),
    ("manager@acme.test", "Morgan", "Hale", Role.HIRING_MANAGER),
]

# (first, last, email, mobile, consent)
ACME_CANDIDATES = [
    ("Alex", "Rivera", "alex.rivera@example.com", "+14155550101", True),
    ("Bea", "Chen", "bea.chen@example.com", "+14155550102", True),
    ("Carlos", "Mendes", "carlos.mendes@example.com", "+14155550103", False),
    ("Dee", "Okafor", "dee.okafor@example.com", "+16465550104", True),
    ("Eli", "Novak", "eli.novak@example.com", "", False),
    ("Fatima", "Zahra", "fatima.zahra@example.com", "+13125550105", True),
    ("Gus", "Lindqvist", "gus.lindqvist@example.com", "+12065550106", False),
    ("Hana", "Sato", "hana.sato@example.com", "+15035550107", True),
]
ACME_JOBS = [
    ("Senior Backend Engineer", "San Francisco, CA", "Northwind Traders"),
    ("Warehouse Supervisor", "Chicago, IL", "Contoso Logistics"),
    ("Registered Nurse (Nights)", "Portland, OR", "Fabrikam Health"),
]
ACME_CONTACTS = [
    (
        "Nora",
        "Quinn",
        "nora.quinn@northwind.example",
        "+14155550111",
        True,
        "Northwind Traders",
        "Engineering Manager",
    ),
    (
        "Omar",
        "Haddad",
        "omar.haddad@contoso.example",
        "+13125550112",
        False,
        "Contoso Logistics",
        "Operations Director",
    ),
]


def seed_demo(log: Callable[[str], None] = print) -> None:
    """Create the demo organisations once; running again changes nothing."""
    ensure_roles()
    with transaction.atomic():
        _seed_acme(log)
        _seed_beacon(log)


def _org(name: str, **fields: str) -> tuple[Organization, bool]:
    org = Organization.objects.filter(name=name).first()
    if org is not None:
        return org, False
    return Organization.objects.create(name=name, **fields), True


def _user(org: Organization, email: str, first: str, last: str, role: Role) -> None:
    if not User.objects.filter(email=email).exists():
        create_user(
            org, email=email, password=DEMO_PASSWORD, first_name=first, last_name=last, roles=[role]
        )


def _seed_acme(log: Callable[[str], None]) -> None:
    org, created = _org(
        "Acme Staffing",
        time_zone="America/Los_Angeles",
        sms_help_text="Acme Staffing recruiting texts. Questions: help@acme.test, 415 555 0100.",
    )
    for email, first, last, role in ACME_USERS:
        _user(org, email, first, last, role)
    ensure_seats(org, 5)
    if not created:
        log("Acme Staffing already seeded.")
        return
    admin = User.objects.get(email="admin@acme.test")
    candidates: list[Candidate] = [
        create_person(  # type: ignore[misc]
            Candidate,
            org,
            None,
            {"first_name": f, "last_name": ln, "email": e, "mobile": m},
            sms_consent=c,
            consent_source=ConsentEvent.Source.APPLICATION,
            consent_note="Ticked “I agree to receive text messages” on the application form.",
        )
        for f, ln, e, m, c in ACME_CANDIDATES
    ]
    jobs = []
    for title, location, company_name in ACME_JOBS:
        company, _ = Company.objects.get_or_create(organization=org, name=company_name)
        jobs.append(
            JobPosting.objects.create(
                organization=org,
                title=title,
                location=location,
                company=company,
                description=f"{title} for {company_name}.",
            )
        )
    statuses = list(Application.Status)
    for i, candidate in enumerate(candidates):
        job = jobs[i % len(jobs)]
        Application.objects.create(
            organization=org, candidate=candidate, job=job, status=statuses[i % len(statuses)]
        )
    for f, ln, e, m, c, company_name, title in ACME_CONTACTS:
        create_person(
            Contact,
            org,
            admin,
            {
                "first_name": f,
                "last_name": ln,
                "email": e,
                "mobile": m,
                "company_name": company_name,
                "title": title,
            },
            sms_consent=c,
            consent_note="Agreed by phone to receive texts.",
        )
    log("Seeded Acme Staffing.")


def _seed_beacon(log: Callable[[str], None]) -> None:
    org, created = _org(
        "Beacon Talent",
        time_zone="America/New_York",
        sms_help_text="Beacon Talent. Questions: help@beacon.test.",
    )
    _user(org, "admin@beacon.test", "Blair", "Beacon", Role.ADMINISTRATOR)
    _user(org, "recruiter@beacon.test", "Casey", "Lamp", Role.RECRUITER)
    ensure_seats(org, 2)
    if not created:
        return
    create_person(
        Candidate,
        org,
        None,
        {
            "first_name": "Quinn",
            "last_name": "Beacon",
            "email": "quinn@example.com",
            "mobile": "+12125550121",
        },
        sms_consent=True,
        consent_source=ConsentEvent.Source.APPLICATION,
    )
    JobPosting.objects.create(organization=org, title="Account Executive", location="New York, NY")
    log("Seeded Beacon Talent.")
