import pytest

from hiretext.ats.models import Application, Candidate, Company, Contact, JobPosting


@pytest.fixture
def records(org):
    """One of each record in the organisation."""
    company = Company.objects.create(organization=org, name="Northwind")
    candidate = Candidate.objects.create(
        organization=org, first_name="Ana", last_name="Lima", mobile="+14155550142"
    )
    contact = Contact.objects.create(
        organization=org, first_name="Nora", last_name="Quinn", company=company
    )
    job = JobPosting.objects.create(organization=org, title="Nurse", company=company)
    Application.objects.create(organization=org, candidate=candidate, job=job)
    return {"candidate": candidate, "contact": contact, "job": job}


@pytest.fixture
def theirs(other_org):
    """The same kinds of records in the other organisation."""
    candidate = Candidate.objects.create(organization=other_org, first_name="Theirs")
    contact = Contact.objects.create(organization=other_org, first_name="Theirs")
    job = JobPosting.objects.create(organization=other_org, title="Their job")
    return {"candidate": candidate, "contact": contact, "job": job}


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user
