"""Changes to people, consent and timelines. Each function owns its transaction."""

from typing import Any

from django.db import IntegrityError, transaction
from django.forms import ModelForm

from hiretext.accounts.models import Organization, User
from hiretext.ats.forms import CandidateForm, ContactForm
from hiretext.ats.models import ActivityEntry, Candidate, ConsentEvent, Contact
from hiretext.lib.errors import Conflict, ValidationFailed

type Person = Candidate | Contact

FORM_FOR: dict[type[Candidate] | type[Contact], type[ModelForm]] = {  # type: ignore[type-arg]
    Candidate: CandidateForm,
    Contact: ContactForm,
}


def _form_errors(form: ModelForm) -> ValidationFailed:  # type: ignore[type-arg]
    errors = {field: [str(m) for m in msgs] for field, msgs in form.errors.items()}
    codes = {e.code for errs in form.errors.as_data().values() for e in errs}
    first_field, first_msgs = next(iter(errors.items()))
    label = "" if first_field == "__all__" else f"{first_field}: "
    exc = ValidationFailed(f"{label}{first_msgs[0]}", errors)
    if codes == {"invalid_phone_number"}:
        exc.code, exc.status = "invalid_phone_number", 422  # type: ignore[misc]
    return exc


def _save_person(
    model: type[Person], org: Organization, instance: Person | None, data: dict[str, Any]
) -> Person:
    """Validate with the model's form; `data` may be partial when updating.

    An update writes only the form's columns, so a consent change (a STOP arriving) made
    while the edit was in flight is never overwritten with the stale values read before it.
    """
    form_class = FORM_FOR[model]
    fields: list[str] = list(form_class._meta.fields or ())
    if instance is not None:
        current = {f: getattr(instance, f) for f in fields}
        data = {**current, **{k: ("" if v is None else v) for k, v in data.items()}}
    else:
        instance = model(organization=org)
    form = form_class(data=data, instance=instance)
    if not form.is_valid():
        raise _form_errors(form)
    try:
        with transaction.atomic():
            saved: Person = form.save(commit=False)
            if saved.pk is None:
                saved.save()
            else:
                extra = ["company"] if isinstance(saved, Contact) else []
                saved.save(update_fields=[*fields, *extra, "updated_at"])
    except IntegrityError as exc:
        raise Conflict(
            "external_id_taken",
            "Another record of this organisation already has that external id.",
        ) from exc
    return saved


def create_person(
    model: type[Person],
    org: Organization,
    actor: User | None,
    data: dict[str, Any],
    *,
    sms_consent: bool = False,
    consent_source: str = ConsentEvent.Source.USER,
    consent_note: str = "",
) -> Person:
    """Create a candidate or contact; consent given at creation is an audited event too."""
    with transaction.atomic():
        person = _save_person(model, org, None, data)
        log_activity(person, ActivityEntry.Kind.NOTE, "Record created", actor=actor)
        if sms_consent:
            set_consent(person, True, source=consent_source, note=consent_note, actor=actor)
    return person


def update_person(
    person: Person,
    actor: User | None,
    data: dict[str, Any],
    *,
    sms_consent: bool | None = None,
    consent_source: str = ConsentEvent.Source.USER,
) -> Person:
    with transaction.atomic():
        person = _save_person(type(person), person.organization, person, data)
        if sms_consent is not None and sms_consent != person.sms_consent:
            set_consent(person, sms_consent, source=consent_source, actor=actor)
            person.refresh_from_db()
    return person


def upsert_person_by_external_id(
    model: type[Person],
    org: Organization,
    actor: User | None,
    external_id: str,
    data: dict[str, Any],
    *,
    sms_consent: bool | None = None,
) -> tuple[Person, bool]:
    """Create or update the record a host ATS knows by `external_id`; True when created."""
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > 100 or "\x00" in external_id:
        raise ValidationFailed(
            "external_id must be 1 to 100 characters (no null characters).",
            {"external_id": ["1 to 100 characters."]},
        )
    data = {**data, "external_id": external_id}
    for _attempt in range(3):
        existing = model.objects.filter(organization=org, external_id=external_id).first()
        try:
            if existing is not None:
                return update_person(
                    existing,
                    actor,
                    data,
                    sms_consent=sms_consent,
                    consent_source=ConsentEvent.Source.API,
                ), False
            return create_person(
                model,
                org,
                actor,
                data,
                sms_consent=bool(sms_consent),
                consent_source=ConsentEvent.Source.API,
            ), True
        except Conflict as exc:
            if exc.code != "external_id_taken":
                raise
            # Lost a race with a parallel upsert of the same id: read it again and update.
    raise Conflict("external_id_taken", "The record changed while saving; try again.")


def delete_person(person: Person) -> None:
    person.delete()


def set_consent(
    person: Person,
    granted: bool,
    *,
    source: str,
    note: str = "",
    wording: str = "",
    actor: User | None = None,
) -> ConsentEvent:
    """Record a consent change (the audit trail) and update the person's state.

    Granting also clears an earlier opt-out: the person (START) or a user with a note
    has said texts are welcome again. A user granting consent must say how it was given.
    """
    if source not in ConsentEvent.Source.values:
        raise ValidationFailed("Unknown consent source.", {"source": ["Unknown source."]})
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationFailed(
            "The note is too long (500 characters at most).", {"note": ["500 characters at most."]}
        )
    if "\x00" in note:
        raise ValidationFailed(
            "The note cannot contain null characters.", {"note": ["No null characters."]}
        )
    if granted and source == ConsentEvent.Source.USER and not note:
        raise ValidationFailed(
            "Add a note saying how the person gave consent.", {"note": ["Required."]}
        )
    wording = (wording or "").replace("\x00", "")
    with transaction.atomic():
        model = type(person)
        locked = model.objects.select_for_update().get(pk=person.pk)
        locked.sms_consent = granted
        locked.sms_opted_out = not granted and source in {
            ConsentEvent.Source.SMS_KEYWORD,
            ConsentEvent.Source.SMS_PHRASE,
            ConsentEvent.Source.CARRIER,
        }
        locked.save(update_fields=["sms_consent", "sms_opted_out", "updated_at"])
        person.sms_consent, person.sms_opted_out = locked.sms_consent, locked.sms_opted_out
        ref = {"candidate": locked} if isinstance(locked, Candidate) else {"contact": locked}
        event = ConsentEvent.objects.create(
            organization_id=locked.organization_id,
            granted=granted,
            source=source,
            note=note,
            wording=wording[:500],
            actor=actor,
            **ref,
        )
        label = ConsentEvent.Source(source).label
        log_activity(
            locked,
            ActivityEntry.Kind.CONSENT,
            f"SMS consent {'given' if granted else 'withdrawn'} ({label})",
            body=note,
            actor=actor,
            ref_id=event.pk,
        )
    return event


def log_activity(
    person: Person,
    kind: str,
    summary: str,
    *,
    body: str = "",
    actor: User | None = None,
    ref_id: int | None = None,
) -> ActivityEntry:
    """Append to the person's timeline (other apps call this for messages, interviews…)."""
    ref = {"candidate": person} if isinstance(person, Candidate) else {"contact": person}
    return ActivityEntry.objects.create(
        organization_id=person.organization_id,
        kind=kind,
        summary=summary.replace("\x00", "")[:300],
        body=body.replace("\x00", "")[:20_000],
        actor=actor,
        ref_id=ref_id,
        **ref,
    )
