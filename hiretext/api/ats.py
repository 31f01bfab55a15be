"""Candidates and contacts: CRUD, upsert by external id, consent."""

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status

from hiretext.accounts.models import User
from hiretext.api.core import current_org, require_perm
from hiretext.api.schemas import Strict, Text100, Text254, Text500
from hiretext.ats import queries, services
from hiretext.ats.models import Candidate, ConsentEvent, Contact
from hiretext.lib.errors import ValidationFailed

router = Router(tags=["people"])

READ_PERM = {Candidate: "view_candidate_pool_page", Contact: "view_contacts_page"}
WRITE_PERM = "edit_people"


class PersonIn(Strict):
    first_name: Text100 | None = None
    last_name: Text100 | None = None
    email: Text254 | None = None
    mobile: Text100 | None = None
    sms_consent: bool | None = None
    time_zone: Text100 | None = None
    external_id: Text100 | None = None


class ContactIn(PersonIn):
    company: Text100 | None = None
    title: Text100 | None = None


class PersonOut(Schema):
    id: int
    external_id: str | None
    first_name: str
    last_name: str
    email: str
    mobile: str
    sms_consent: bool
    sms_opted_out: bool
    textable: bool
    time_zone: str


class ContactOut(PersonOut):
    company: str | None
    title: str


class CandidatePage(Schema):
    items: list[PersonOut]
    next_cursor: str | None


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ConsentIn(Strict):
    """Sources a caller may claim; keyword, phrase and carrier opt-outs are detected, not told."""

    granted: bool
    source: Literal["api", "application", "import", "user"] = "api"
    note: Text500 = ""


def person_out(person: Candidate | Contact) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": person.pk,
        "external_id": person.external_id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "mobile": person.mobile,
        "sms_consent": person.sms_consent,
        "sms_opted_out": person.sms_opted_out,
        "textable": person.is_textable,
        "time_zone": person.time_zone,
    }
    if isinstance(person, Contact):
        out["company"] = person.company.name if person.company else None
        out["title"] = person.title
    return out


def _fields(payload: PersonIn) -> tuple[dict[str, Any], bool | None]:
    data = payload.model_dump(exclude_unset=True)
    consent = data.pop("sms_consent", None)
    if "company" in data:
        data["company_name"] = data.pop("company") or ""
    return {k: ("" if v is None and k != "external_id" else v) for k, v in data.items()}, consent


def _crud(model: type[Candidate] | type[Contact], prefix: str) -> None:
    """Register the same routes for candidates and contacts."""
    In = ContactIn if model is Contact else PersonIn
    Out = ContactOut if model is Contact else PersonOut
    Page = ContactPage if model is Contact else CandidatePage
    access = queries.access_contact if model is Contact else queries.access_candidate
    search = queries.search_contacts if model is Contact else queries.search_candidates
    noun = prefix.rstrip("s")

    def reader(request: HttpRequest) -> User:
        return require_perm(request, READ_PERM[model])

    def writer(request: HttpRequest) -> User:
        reader(request)
        return require_perm(request, WRITE_PERM)

    @router.get(f"/{prefix}", response=Page, operation_id=f"list_{prefix}")
    def list_people(
        request: HttpRequest, q: str = "", cursor: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        rows, next_cursor = search(reader(request), q, cursor, limit)
        return {"items": [person_out(p) for p in rows], "next_cursor": next_cursor}

    @router.post(f"/{prefix}", response={201: Out}, operation_id=f"create_{noun}")
    def create_person(request: HttpRequest, payload: In) -> Status[dict[str, Any]]:  # type: ignore[valid-type]
        user = writer(request)
        data, consent = _fields(payload)
        person = services.create_person(
            model,
            current_org(request),
            user,
            data,
            sms_consent=bool(consent),
            consent_source=ConsentEvent.Source.API,
        )
        return Status(201, person_out(person))

    @router.get(f"/{prefix}/{{person_id}}", response=Out, operation_id=f"get_{noun}")
    def get_person(request: HttpRequest, person_id: int) -> dict[str, Any]:
        return person_out(access(reader(request), person_id))

    @router.patch(f"/{prefix}/{{person_id}}", response=Out, operation_id=f"update_{noun}")
    def update_person(request: HttpRequest, person_id: int, payload: In) -> dict[str, Any]:  # type: ignore[valid-type]
        user = writer(request)
        person = access(user, person_id)
        data, consent = _fields(payload)
        return person_out(
            services.update_person(
                person, user, data, sms_consent=consent, consent_source=ConsentEvent.Source.API
            )
        )

    @router.delete(f"/{prefix}/{{person_id}}", response={204: None}, operation_id=f"delete_{noun}")
    def delete_person(request: HttpRequest, person_id: int) -> Status[None]:
        user = writer(request)
        services.delete_person(access(user, person_id))
        return Status(204, None)

    @router.put(
        f"/{prefix}/external/{{external_id}}",
        response={200: Out, 201: Out},
        operation_id=f"upsert_{noun}",
    )
    def upsert_person(
        request: HttpRequest,
        external_id: str,
        payload: In,  # type: ignore[valid-type]
    ) -> Status[dict[str, Any]]:
        user = writer(request)
        data, consent = _fields(payload)
        body_id = data.pop("external_id", None)
        if body_id is not None and body_id != external_id:
            raise ValidationFailed(
                "external_id in the body differs from the one in the URL.",
                {"external_id": ["Must match the URL or be left out."]},
            )
        person, created = services.upsert_person_by_external_id(
            model,
            current_org(request),
            user,
            external_id,
            data,
            sms_consent=consent,
        )
        return Status(201 if created else 200, person_out(person))

    @router.post(
        f"/{prefix}/{{person_id}}/consent", response=Out, operation_id=f"set_{noun}_consent"
    )
    def set_consent(request: HttpRequest, person_id: int, payload: ConsentIn) -> dict[str, Any]:
        user = writer(request)
        person = access(user, person_id)
        services.set_consent(
            person, payload.granted, source=payload.source, note=payload.note, actor=user
        )
        return person_out(person)


_crud(Candidate, "candidates")
_crud(Contact, "contacts")
