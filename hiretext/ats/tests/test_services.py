"""Consent audit trail, timeline entries and the person services."""

import pytest

from hiretext.ats import services
from hiretext.ats.models import ActivityEntry, Candidate, ConsentEvent, Contact
from hiretext.lib.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[Candidate, Contact], ids=["candidate", "contact"])
def person(request, org, admin):
    return services.create_person(
        request.param, org, admin, {"first_name": "Ana", "mobile": "+14155550142"}
    )


def ref(person):
    return {"candidate": person} if isinstance(person, Candidate) else {"contact": person}


def test_creating_a_person_writes_a_timeline_entry_and_no_consent(person, admin):
    entries = ActivityEntry.objects.filter(**ref(person))
    assert [(e.kind, e.summary, e.actor) for e in entries] == [("note", "Record created", admin)]
    assert not ConsentEvent.objects.filter(**ref(person)).exists()
    assert person.is_textable is False


def test_granting_consent_writes_an_event_and_a_timeline_entry(person, recruiter):
    event = services.set_consent(
        person, True, source="user", note="  Agreed by phone on 3 March.  ", actor=recruiter
    )
    person.refresh_from_db()
    assert person.sms_consent is True
    assert person.sms_opted_out is False
    assert person.is_textable is True
    assert (event.granted, event.source, event.actor, event.note) == (
        True,
        "user",
        recruiter,
        "Agreed by phone on 3 March.",
    )
    assert event.organization_id == person.organization_id
    entry = ActivityEntry.objects.get(**ref(person), kind="consent")
    assert entry.summary == "SMS consent given (Set by a user)"
    assert entry.body == "Agreed by phone on 3 March."
    assert entry.actor == recruiter
    assert entry.ref_id == event.pk


def test_every_change_is_kept_in_order(person, recruiter):
    services.set_consent(person, True, source="application", wording="I agree to texts")
    services.set_consent(person, False, source="sms_keyword", wording="STOP")
    services.set_consent(person, True, source="sms_keyword", wording="START")
    services.set_consent(person, False, source="user", note="Asked us to stop", actor=recruiter)
    events = list(ConsentEvent.objects.filter(**ref(person)).order_by("id"))
    assert [(e.granted, e.source, e.wording, e.note) for e in events] == [
        (True, "application", "I agree to texts", ""),
        (False, "sms_keyword", "STOP", ""),
        (True, "sms_keyword", "START", ""),
        (False, "user", "", "Asked us to stop"),
    ]
    summaries = list(
        ActivityEntry.objects.filter(**ref(person), kind="consent")
        .order_by("id")
        .values_list("summary", flat=True)
    )
    assert summaries == [
        "SMS consent given (Application form)",
        "SMS consent withdrawn (SMS keyword)",
        "SMS consent given (SMS keyword)",
        "SMS consent withdrawn (Set by a user)",
    ]


@pytest.mark.parametrize(
    ("source", "opted_out"),
    [
        ("sms_keyword", True),
        ("sms_phrase", True),
        ("carrier", True),
        ("user", False),
        ("api", False),
    ],
)
def test_only_the_person_or_their_carrier_opts_out(person, source, opted_out):
    services.set_consent(person, True, source="application")
    services.set_consent(person, False, source=source)
    person.refresh_from_db()
    assert person.sms_consent is False
    assert person.sms_opted_out is opted_out
    assert person.is_textable is False


def test_granting_again_clears_an_opt_out(person, admin):
    services.set_consent(person, False, source="sms_keyword", wording="STOP")
    services.set_consent(person, True, source="user", note="Texted us to restart", actor=admin)
    person.refresh_from_db()
    assert (person.sms_consent, person.sms_opted_out, person.is_textable) == (True, False, True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"granted": True, "source": "user", "note": ""}, "Add a note saying how"),
        ({"granted": True, "source": "user", "note": "   "}, "Add a note saying how"),
        ({"granted": True, "source": "telepathy", "note": "x"}, "Unknown consent source."),
        ({"granted": True, "source": "user", "note": "x" * 501}, "The note is too long"),
        ({"granted": False, "source": "user", "note": "a\x00b"}, "null characters"),
    ],
)
def test_bad_consent_changes_write_nothing(person, admin, kwargs, message):
    before = (ConsentEvent.objects.count(), ActivityEntry.objects.count())
    kwargs = dict(kwargs)
    granted = kwargs.pop("granted")
    with pytest.raises(DomainError) as caught:
        services.set_consent(person, granted, actor=admin, **kwargs)
    assert caught.value.code == "validation_error"
    assert caught.value.status == 400
    assert message in caught.value.message
    assert (ConsentEvent.objects.count(), ActivityEntry.objects.count()) == before
    person.refresh_from_db()
    assert person.sms_consent is False


def test_consent_wording_and_timeline_text_drop_null_characters(person):
    event = services.set_consent(person, False, source="sms_keyword", wording="ST\x00OP")
    assert event.wording == "STOP"
    entry = services.log_activity(person, "sms_in", "In\x00bound", body="b\x00ody")
    entry.refresh_from_db()
    assert (entry.summary, entry.body) == ("Inbound", "body")


def test_consent_given_at_creation_is_an_event_in_the_same_transaction(org, admin):
    with pytest.raises(DomainError):
        services.create_person(
            Candidate, org, admin, {"first_name": "Ana"}, sms_consent=True, consent_note=""
        )
    assert Candidate.objects.count() == 0
    assert ActivityEntry.objects.count() == 0

    person = services.create_person(
        Candidate, org, admin, {"first_name": "Ana"}, sms_consent=True, consent_note="At the fair"
    )
    event = ConsentEvent.objects.get(candidate=person)
    assert (event.source, event.note, event.actor) == ("user", "At the fair", admin)


def test_update_changes_only_the_given_fields(org, admin):
    person = services.create_person(
        Contact,
        org,
        admin,
        {"first_name": "Ana", "last_name": "Lima", "email": "ana@x.example", "company_name": "Co"},
    )
    services.update_person(person, admin, {"last_name": "Silva"})
    person.refresh_from_db()
    assert (person.first_name, person.last_name, person.email) == ("Ana", "Silva", "ana@x.example")
    assert person.company.name == "Co"
    services.update_person(person, admin, {"company_name": ""})
    person.refresh_from_db()
    assert person.company is None


def test_an_edit_never_undoes_an_opt_out_that_arrived_meanwhile(org, admin):
    """The edit form was loaded before the STOP arrived; saving it keeps the opt-out."""
    person = services.create_person(
        Candidate,
        org,
        admin,
        {"first_name": "Ana", "mobile": "+14155550142"},
        sms_consent=True,
        consent_note="Form",
    )
    stale = Candidate.objects.get(pk=person.pk)
    services.set_consent(
        Candidate.objects.get(pk=person.pk), False, source="sms_keyword", wording="STOP"
    )
    services.update_person(stale, admin, {"last_name": "Lima"})
    person.refresh_from_db()
    assert person.last_name == "Lima"
    assert (person.sms_consent, person.sms_opted_out) == (False, True)


def test_update_with_consent_records_it_once(org, admin):
    person = services.create_person(Candidate, org, admin, {"first_name": "Ana"})
    services.update_person(person, admin, {}, sms_consent=True, consent_source="api")
    services.update_person(person, admin, {}, sms_consent=True, consent_source="api")
    assert ConsentEvent.objects.filter(candidate=person).count() == 1
    services.update_person(person, admin, {}, sms_consent=False, consent_source="api")
    assert list(
        ConsentEvent.objects.filter(candidate=person)
        .order_by("id")
        .values_list("granted", flat=True)
    ) == [True, False]


def test_upsert_creates_then_updates(org, admin):
    first, created = services.upsert_person_by_external_id(
        Candidate, org, admin, " ats-7 ", {"first_name": "Ana"}, sms_consent=True
    )
    assert created is True
    assert first.external_id == "ats-7"
    second, created = services.upsert_person_by_external_id(
        Candidate, org, admin, "ats-7", {"last_name": "Lima"}, sms_consent=None
    )
    assert created is False
    assert second.pk == first.pk
    second.refresh_from_db()
    assert (second.first_name, second.last_name, second.sms_consent) == ("Ana", "Lima", True)
    event = ConsentEvent.objects.get(candidate=first)
    assert event.source == "api"


@pytest.mark.parametrize("external_id", ["", "   ", "x" * 101, "a\x00b"])
def test_upsert_refuses_bad_external_ids(org, admin, external_id):
    with pytest.raises(DomainError) as caught:
        services.upsert_person_by_external_id(
            Candidate, org, admin, external_id, {"first_name": "Ana"}
        )
    assert caught.value.code == "validation_error"
    assert "external_id must be 1 to 100 characters" in caught.value.message
    assert Candidate.objects.count() == 0


def test_delete_removes_the_person(org, admin):
    person = services.create_person(Candidate, org, admin, {"first_name": "Ana"})
    services.delete_person(person)
    assert not Candidate.objects.exists()
