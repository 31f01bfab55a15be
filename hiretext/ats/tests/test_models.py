"""Model rules: E.164 mobiles, external ids per organisation, database checks, textability."""

import pytest
from django.db import IntegrityError, transaction

from hiretext.ats import services
from hiretext.ats.models import (
    ActivityEntry,
    Application,
    Candidate,
    ConsentEvent,
    Contact,
    JobPosting,
)
from hiretext.lib.errors import DomainError
from hiretext.lib.phones import format_phone, is_mobile_capable, normalize_phone

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+14155550142", "+14155550142"),
        ("(415) 555-0142", "+14155550142"),
        ("415.555.0142", "+14155550142"),
        ("415 555 0142", "+14155550142"),
        ("1-415-555-0142", "+14155550142"),
        ("  +1 415 555 0142  ", "+14155550142"),
        ("tel:+1-415-555-0142", "+14155550142"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+61 491 570 156", "+61491570156"),
        ("011 33 6 12 34 56 78", "+33612345678"),
    ],
)
def test_mobile_is_stored_as_e164(org, admin, raw, e164):
    assert normalize_phone(raw) == e164
    person = services.create_person(Candidate, org, admin, {"first_name": "Ana", "mobile": raw})
    person.refresh_from_db()
    assert person.mobile == e164


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("12345", "“12345” is not a valid phone number."),
        ("not a phone", "“not a phone” is not a phone number."),
        ("+1 555 555 5555", "is not a valid phone number."),
        ("415555014", "is not a valid phone number."),
        ("+1 (415) 555-0142 ext. 5", "has an extension"),
        ("<script>alert(1)</script>", "is not a phone number."),
    ],
)
def test_invalid_mobile_is_refused_with_a_code_and_nothing_is_written(org, admin, raw, message):
    with pytest.raises(DomainError) as caught:
        normalize_phone(raw)
    assert caught.value.code == "invalid_phone_number"
    assert message in caught.value.message

    with pytest.raises(DomainError) as caught:
        services.create_person(Candidate, org, admin, {"first_name": "Ana", "mobile": raw})
    assert caught.value.code == "invalid_phone_number"
    assert caught.value.status == 422
    assert caught.value.errors == {"mobile": [caught.value.message.removeprefix("mobile: ")]}
    assert Candidate.objects.count() == 0
    assert ActivityEntry.objects.count() == 0


def test_an_oversized_mobile_is_refused_before_parsing(org, admin):
    with pytest.raises(DomainError) as caught:
        normalize_phone("4" * 41)
    assert (caught.value.code, caught.value.message) == (
        "invalid_phone_number",
        "That phone number is too long.",
    )
    with pytest.raises(DomainError) as caught:
        services.create_person(Candidate, org, admin, {"first_name": "Ana", "mobile": "4" * 41})
    assert caught.value.code == "validation_error"
    assert (
        caught.value.message == "mobile: Ensure this value has at most 40 characters (it has 41)."
    )
    assert Candidate.objects.count() == 0


def test_empty_mobile_is_allowed_and_not_textable(org, admin):
    person = services.create_person(
        Candidate,
        org,
        admin,
        {"first_name": "Ana", "mobile": "   "},
        sms_consent=True,
        consent_note="Said yes at the job fair.",
    )
    assert person.mobile == ""
    assert person.sms_consent is True
    assert person.is_textable is False


def test_format_phone_is_spaced_international():
    assert format_phone("+14155550142") == "+1 415 555 0142"
    assert format_phone("garbage") == "garbage"


def test_landlines_and_toll_free_are_not_mobile_capable():
    assert is_mobile_capable("+14155550142")  # NANP: ambiguous, allowed
    assert is_mobile_capable("+33612345678")  # French mobile
    assert not is_mobile_capable("+4930123456")  # Berlin landline
    assert not is_mobile_capable("+18005550199")  # toll free
    assert not is_mobile_capable("not e164")


def test_external_id_is_unique_within_an_organisation_only(org, other_org, admin, other_admin):
    services.create_person(Candidate, org, admin, {"first_name": "A", "external_id": "ats-1"})
    with pytest.raises(DomainError) as caught:
        services.create_person(Candidate, org, admin, {"first_name": "B", "external_id": "ats-1"})
    assert (caught.value.code, caught.value.status) == ("external_id_taken", 409)
    assert Candidate.objects.filter(organization=org).count() == 1
    assert ActivityEntry.objects.filter(organization=org).count() == 1  # only the first

    # The same id in another organisation is a different record.
    services.create_person(
        Candidate, other_org, other_admin, {"first_name": "C", "external_id": "ats-1"}
    )
    # Contacts have their own namespace.
    services.create_person(Contact, org, admin, {"first_name": "D", "external_id": "ats-1"})
    assert Candidate.objects.filter(external_id="ats-1").count() == 2
    assert Contact.objects.filter(external_id="ats-1").count() == 1


def test_external_id_uniqueness_is_enforced_by_the_database(org):
    Candidate.objects.create(organization=org, first_name="A", external_id="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Candidate.objects.create(organization=org, first_name="B", external_id="x")
    Contact.objects.create(organization=org, first_name="A", external_id="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(organization=org, first_name="B", external_id="x")


def test_many_records_without_external_id_are_fine(org, admin):
    for name in ("A", "B", "C"):
        services.create_person(Candidate, org, admin, {"first_name": name, "external_id": "  "})
    assert Candidate.objects.filter(external_id__isnull=True).count() == 3


def test_updating_to_a_taken_external_id_is_a_conflict_and_changes_nothing(org, admin):
    services.create_person(Candidate, org, admin, {"first_name": "A", "external_id": "one"})
    other = services.create_person(Candidate, org, admin, {"first_name": "B", "external_id": "two"})
    with pytest.raises(DomainError) as caught:
        services.update_person(other, admin, {"external_id": "one", "first_name": "Bee"})
    assert caught.value.code == "external_id_taken"
    other.refresh_from_db()
    assert (other.external_id, other.first_name) == ("two", "B")


@pytest.mark.parametrize("model", [ConsentEvent, ActivityEntry])
def test_exactly_one_person_is_checked_by_the_database(org, model):
    candidate = Candidate.objects.create(organization=org, first_name="A")
    contact = Contact.objects.create(organization=org, first_name="B")
    fields = (
        {"granted": True, "source": "user"}
        if model is ConsentEvent
        else {"kind": "note", "summary": "x"}
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(organization=org, candidate=candidate, contact=contact, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(organization=org, **fields)
    model.objects.create(organization=org, candidate=candidate, **fields)
    model.objects.create(organization=org, contact=contact, **fields)
    assert model.objects.count() == 2


def test_one_application_per_candidate_and_job(org):
    candidate = Candidate.objects.create(organization=org, first_name="A")
    job = JobPosting.objects.create(organization=org, title="Nurse")
    other_job = JobPosting.objects.create(organization=org, title="Welder")
    Application.objects.create(organization=org, candidate=candidate, job=job)
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(organization=org, candidate=candidate, job=job)
    Application.objects.create(organization=org, candidate=candidate, job=other_job)
    assert candidate.applications.count() == 2


@pytest.mark.parametrize(
    ("mobile", "consent", "opted_out", "textable"),
    [
        ("+14155550142", True, False, True),
        ("+14155550142", False, False, False),
        ("+14155550142", True, True, False),
        ("+14155550142", False, True, False),
        ("", True, False, False),
        ("+18005550199", True, False, False),  # toll free: not a mobile
        ("+4930123456", True, False, False),  # landline
        ("+33612345678", True, False, True),
    ],
)
def test_is_textable(org, mobile, consent, opted_out, textable):
    person = Candidate(
        organization=org,
        first_name="A",
        mobile=mobile,
        sms_consent=consent,
        sms_opted_out=opted_out,
    )
    assert person.is_textable is textable


def test_names_and_display():
    person = Candidate(first_name="Ana", last_name="", mobile="+14155550142")
    assert person.full_name == "Ana"
    assert str(person) == "Ana"
    assert person.mobile_display == "+1 415 555 0142"
    assert Candidate(first_name="A").mobile_display == ""
