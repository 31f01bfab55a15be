"""Reads within one organisation; `access_*` raise NotFound for anything outside it."""

import re

from django.db.models import Case, Count, Q, QuerySet, Value, When

from hiretext.accounts.models import User
from hiretext.ats.models import ActivityEntry, Candidate, Contact, JobPosting
from hiretext.lib.errors import NotFound
from hiretext.lib.pagination import paginate

PAGE_SIZE = 25
MAX_ID = 2**63 - 1  # ids beyond a 64-bit integer cannot exist and would break the query


def _org_id(user: User) -> int:
    if user.organization_id is None:
        raise NotFound()
    return user.organization_id


def _check_id(pk: int, message: str) -> None:
    if not 0 < pk <= MAX_ID:
        raise NotFound(message)


def access_candidate(user: User, candidate_id: int) -> Candidate:
    _check_id(candidate_id, "No such candidate.")
    person = Candidate.objects.filter(organization_id=_org_id(user), pk=candidate_id).first()
    if person is None:
        raise NotFound("No such candidate.")
    return person


def access_contact(user: User, contact_id: int) -> Contact:
    _check_id(contact_id, "No such contact.")
    person = (
        Contact.objects.select_related("company")
        .filter(organization_id=_org_id(user), pk=contact_id)
        .first()
    )
    if person is None:
        raise NotFound("No such contact.")
    return person


def access_job(user: User, job_id: int) -> JobPosting:
    _check_id(job_id, "No such job posting.")
    job = JobPosting.objects.filter(organization_id=_org_id(user), pk=job_id).first()
    if job is None:
        raise NotFound("No such job posting.")
    return job


def clean_query(q: str) -> str:
    """What a search box sent, made safe for any database (no NUL), at most 100 characters."""
    return (q or "").replace("\x00", "").strip()[:100]


def person_search_filter(q: str, *, phone: bool = True) -> Q:
    """Partial name (first, last or "first last"), e-mail or (with `phone`) phone digits."""
    q = clean_query(q)
    if not q:
        return Q()
    condition = Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q)
    parts = q.split()
    if len(parts) >= 2:
        condition |= Q(first_name__icontains=parts[0], last_name__icontains=" ".join(parts[1:]))
    digits = re.sub(r"\D", "", q)
    if phone and len(digits) >= 3:
        condition |= Q(mobile__contains=digits)
    return condition


def search_candidates(
    user: User, q: str = "", cursor: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Candidate], str | None]:
    qs = Candidate.objects.filter(organization_id=_org_id(user)).filter(person_search_filter(q))
    return paginate(qs, ["last_name", "first_name", "id"], cursor, limit=limit)


def search_contacts(
    user: User, q: str = "", cursor: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Contact], str | None]:
    q = clean_query(q)
    qs = Contact.objects.select_related("company").filter(organization_id=_org_id(user))
    if q:
        # Only when searching: an empty company filter would hide contacts without a company.
        qs = qs.filter(person_search_filter(q) | Q(company__name__icontains=q))
    return paginate(qs, ["last_name", "first_name", "id"], cursor, limit=limit)


def list_jobs(user: User) -> QuerySet[JobPosting]:
    """Open postings first, newest first; `applicant_count` is counted in the same query."""
    open_first = Case(When(status=JobPosting.Status.OPEN, then=Value(0)), default=Value(1))
    return (
        JobPosting.objects.filter(organization_id=_org_id(user))
        .select_related("company")
        .annotate(applicant_count=Count("applications"))
        .order_by(open_first, "-created_at", "-id")
    )


def timeline(person: Candidate | Contact, limit: int = 100) -> list[ActivityEntry]:
    key = "candidate" if isinstance(person, Candidate) else "contact"
    return list(
        ActivityEntry.objects.select_related("actor")
        .filter(**{key: person})
        .order_by("-created_at", "-id")[:limit]
    )
