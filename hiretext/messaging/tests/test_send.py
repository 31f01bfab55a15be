"""Sending: every refusal code, the reservation, idempotency, the worker and its retries."""

import pytest

from hiretext.accounts.models import Organization, Role
from hiretext.ats import services as ats_services
from hiretext.ats.models import ActivityEntry, ConsentEvent
from hiretext.billing import services as billing
from hiretext.billing.models import CreditEntry
from hiretext.carriers.base import CarrierError
from hiretext.carriers.simulator import phones
from hiretext.carriers.simulator.phone_models import SimulatorPhoneMessage
from hiretext.messaging import services
from hiretext.messaging.models import Message, PhoneOptOut
from hiretext.messaging.tests.conftest import ALEX, make_candidate, make_number
from hiretext.numbers.allowance import used_this_month

pytestmark = pytest.mark.django_db


def send(api, person, body="Hi Alex, are you free tomorrow?", key=None, **extra):
    headers = {"Idempotency-Key": key} if key else None
    kind = "contact_id" if person.__class__.__name__ == "Contact" else "candidate_id"
    return api.post("/messages", {kind: person.pk, "body": body, **extra}, headers=headers)


# --- refusals: each precondition has its own code and a human message ---------------------


def test_permission_denied_without_recruitment_sms(api_as, manager, alex, number):
    response = send(api_as(manager), alex)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Message.objects.exists()


def test_no_seat(api_as, make_user, alex, number):
    lonely = make_user("lonely@acme.test", Role.RECRUITER)
    response = send(api_as(lonely), alex)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "no_seat"
    assert "not assigned to a texting number" in body["detail"]


def test_no_mobile_number(api_as, org, recruiter, number):
    person = make_candidate(org, recruiter, mobile="", consent=False)
    response = send(api_as(recruiter), person)
    assert (response.status_code, response.json()["code"]) == (422, "no_mobile_number")


def test_not_opted_in(api_as, org, recruiter, number):
    person = make_candidate(org, recruiter, consent=False)
    response = send(api_as(recruiter), person)
    assert (response.status_code, response.json()["code"]) == (422, "not_opted_in")
    assert "has not agreed" in response.json()["detail"]


def test_opted_out(api_as, recruiter, alex, number):
    ats_services.set_consent(alex, False, source=ConsentEvent.Source.SMS_KEYWORD, wording="STOP")
    response = send(api_as(recruiter), alex)
    assert (response.status_code, response.json()["code"]) == (422, "opted_out")


def test_phone_opted_out_before_the_record_existed(api_as, org, recruiter, number):
    PhoneOptOut.objects.create(organization=org, phone=ALEX, wording="STOP")
    person = make_candidate(org, recruiter)
    response = send(api_as(recruiter), person)
    assert response.json()["code"] == "opted_out"


def test_rejection_cannot_be_sent_as_sms(api_as, recruiter, alex, number):
    response = send(api_as(recruiter), alex, category="rejection")
    assert (response.status_code, response.json()["code"]) == (422, "sms_not_allowed_for_rejection")


@pytest.mark.parametrize("body", ["", "   ", "\n\t "])
def test_body_required(api_as, recruiter, alex, number, body):
    response = send(api_as(recruiter), alex, body=body)
    assert (response.status_code, response.json()["code"]) == (422, "body_required")


def test_message_too_long(api_as, recruiter, alex, number):
    response = send(api_as(recruiter), alex, body="x" * (services.MAX_CHARACTERS + 1))
    assert (response.status_code, response.json()["code"]) == (422, "message_too_long")
    response = send(api_as(recruiter), alex, body="😀" * 400)  # 800 units: 12 UCS-2 parts
    assert response.json()["code"] == "message_too_long"
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"body": "hi"},  # no recipient
        {"candidate_id": 1, "contact_id": 1, "body": "hi"},
        {"candidate_id": "1", "body": "hi"},  # wrong type
        {"candidate_id": 1, "body": 5},
        {"candidate_id": 1, "body": "hi", "extra": True},
        {"candidate_id": 1, "body": "x" * 20_001},  # oversized
        {"candidate_id": 1, "body": "a\x00b"},
        {"candidate_id": 1, "body": "hi", "category": "spam"},
    ],
)
def test_malformed_bodies_are_400(api_as, recruiter, alex, number, payload):
    if "candidate_id" in payload and payload["candidate_id"] == 1:
        payload = {**payload, "candidate_id": alex.pk}
    response = api_as(recruiter).post("/messages", payload)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert not Message.objects.exists()


def test_another_organisations_person_is_not_found(api_as, other_admin, alex, number):
    response = send(api_as(other_admin), alex)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_hostile_idempotency_key_is_refused(api_as, recruiter, alex, number):
    response = send(api_as(recruiter), alex, key="k" * 201)
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


# --- acceptance and the reservation --------------------------------------------------------


def test_accepted_202_queued_with_allowance_reserved(api_as, recruiter, alex, number):
    response = send(api_as(recruiter), alex, body="x" * 200)  # 2 GSM-7 parts
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert (body["segments"], body["encoding"]) == (2, "GSM-7")
    message = Message.objects.get(pk=body["id"])
    assert body["conversation_id"] == message.conversation_id
    assert (message.allowance_units, message.credit_units) == (2, 0)
    assert used_this_month(number) == 2
    entry = ActivityEntry.objects.get(candidate=alex, kind=ActivityEntry.Kind.SMS_OUT)
    assert entry.ref_id == message.pk and entry.body == "x" * 200


def test_allowance_exhausted_with_refuse_policy(api_as, org, recruiter, alex):
    make_number(org, [recruiter], allowance=1)
    response = send(api_as(recruiter), alex, body="x" * 200)
    assert (response.status_code, response.json()["code"]) == (422, "allowance_exhausted")
    assert not Message.objects.exists()
    assert used_this_month(_number(org)) == 0


def _number(org):
    from hiretext.numbers.models import PhoneNumber

    return PhoneNumber.objects.get(organization=org)


def test_overage_uses_credits_then_refuses_without_them(api_as, org, recruiter, alex):
    make_number(org, [recruiter], allowance=1)
    org.overage_policy = Organization.OveragePolicy.USE_CREDITS
    org.save()
    response = send(api_as(recruiter), alex, body="x" * 200)
    assert (response.status_code, response.json()["code"]) == (422, "insufficient_credits")
    assert used_this_month(_number(org)) == 0  # the allowance taken was rolled back
    billing.top_up(org, 5)
    response = send(api_as(recruiter), alex, body="x" * 200)
    assert response.status_code == 202
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.allowance_units, message.credit_units) == (1, 1)
    assert billing.balance(org) == 4


def test_same_idempotency_key_returns_the_same_body_and_sends_once(
    api_as, recruiter, alex, number, immediate, django_capture_on_commit_callbacks
):
    api = api_as(recruiter)
    with django_capture_on_commit_callbacks(execute=True):
        first = send(api, alex, key="abc-123")
    with django_capture_on_commit_callbacks(execute=True):
        again = send(api, alex, key="abc-123")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["conversation_id"] == first.json()["conversation_id"]
    assert Message.objects.count() == 1
    assert SimulatorPhoneMessage.objects.filter(phone=ALEX).count() == 1
    assert used_this_month(number) == 1


def test_idempotency_key_reused_for_someone_else_conflicts(api_as, recruiter, alex, nora, number):
    api = api_as(recruiter)
    assert send(api, alex, key="same").status_code == 202
    response = send(api, nora, key="same")
    assert (response.status_code, response.json()["code"]) == (409, "idempotency_key_reused")


def test_keys_are_per_user(api_as, org, make_user, recruiter, alex):
    other = make_user("recruiter2@acme.test", Role.RECRUITER)
    make_number(org, [recruiter, other])
    a = send(api_as(recruiter), alex, key="k1")
    b = send(api_as(other), alex, key="k1")
    assert a.json()["id"] != b.json()["id"]


# --- the worker ----------------------------------------------------------------------------


def test_worker_sends_and_delivery_callback_arrives(
    api_as, recruiter, alex, number, immediate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(api_as(recruiter), alex)
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "delivered"
    assert message.external_id.startswith("SIM")
    assert message.sent_at and message.delivered_at
    received = SimulatorPhoneMessage.objects.get(phone=ALEX)
    assert received.body == "Hi Alex, are you free tomorrow?"
    assert received.number == number.e164
    got = api_as(recruiter).get(f"/messages/{message.pk}").json()
    assert got["status"] == "delivered"


def test_phone_set_to_fail_ends_undelivered_with_reason(
    api_as, recruiter, alex, number, immediate, django_capture_on_commit_callbacks
):
    phones.set_failure(ALEX, "undelivered", "30006")
    with django_capture_on_commit_callbacks(execute=True):
        response = send(api_as(recruiter), alex)
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "undelivered"
    assert message.error_code == "30006"
    assert "Not delivered" in message.error_message
    assert used_this_month(number) == 1  # the carrier tried: nothing is refunded


def test_carrier_outage_retries_then_fails_and_refunds(
    api_as, org, recruiter, alex, immediate, django_capture_on_commit_callbacks, monkeypatch
):
    make_number(org, [recruiter], allowance=1)
    org.overage_policy = Organization.OveragePolicy.USE_CREDITS
    org.save()
    billing.top_up(org, 10)
    calls = []

    def down(sms):
        calls.append(sms.message_id)
        raise CarrierError("Service unavailable", code="503", transient=True)

    monkeypatch.setattr(phones, "send", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(api_as(recruiter), alex, body="x" * 200)  # 1 allowance + 1 credit
    assert response.status_code == 202
    message = Message.objects.get(pk=response.json()["id"])
    assert len(calls) == services.MAX_ATTEMPTS
    assert message.attempts == services.MAX_ATTEMPTS
    assert message.status == "failed"
    assert "carrier was unavailable" in message.error_message
    assert used_this_month(_number(org)) == 0
    assert billing.balance(org) == 10
    assert CreditEntry.objects.filter(kind="refund", message=message).count() == 1


def test_transient_error_then_success(
    api_as, recruiter, alex, number, immediate, django_capture_on_commit_callbacks, monkeypatch
):
    real = phones.send
    calls = []

    def flaky(sms):
        calls.append(1)
        if len(calls) < 3:
            raise CarrierError("timeout", transient=True)
        return real(sms)

    monkeypatch.setattr(phones, "send", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(api_as(recruiter), alex)
    message = Message.objects.get(pk=response.json()["id"])
    assert len(calls) == 3
    assert message.status == "delivered"
    assert message.attempts == 3


def test_permanent_error_fails_at_once_and_refunds(
    api_as, recruiter, alex, number, immediate, django_capture_on_commit_callbacks, monkeypatch
):
    def refuse(sms):
        raise CarrierError("Invalid 'To' number", code="21211")

    monkeypatch.setattr(phones, "send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(api_as(recruiter), alex)
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.status, message.attempts, message.error_code) == ("failed", 1, "21211")
    assert message.error_message == "Not sent: Invalid 'To' number"
    assert used_this_month(number) == 0


def test_carrier_21610_opts_the_person_out(
    api_as, recruiter, alex, number, immediate, django_capture_on_commit_callbacks
):
    phones.set_failure(ALEX, "failed", "21610")
    with django_capture_on_commit_callbacks(execute=True):
        response = send(api_as(recruiter), alex)
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.status, message.error_code) == ("failed", "21610")
    assert "unsubscribed" in message.error_message
    alex.refresh_from_db()
    assert alex.sms_opted_out and not alex.sms_consent
    assert ConsentEvent.objects.filter(candidate=alex, source="carrier", granted=False).exists()
    assert send(api_as(recruiter), alex).json()["code"] == "opted_out"


@pytest.mark.parametrize("opted_out", ["person", "phone"])
def test_opt_out_between_accept_and_send_stops_the_message(
    org, recruiter, alex, number, immediate, opted_out
):
    """The person's consent, or only the organisation-wide row (the phone texted STOP to
    another of our numbers before it was anyone's): the claim's locked read checks both."""
    accepted = services.send_message(recruiter, alex, "Hello")
    if opted_out == "person":
        ats_services.set_consent(alex, False, source=ConsentEvent.Source.SMS_KEYWORD)
    else:
        PhoneOptOut.objects.create(organization=org, phone=alex.mobile, wording="STOP")
    assert services.deliver(accepted.message.pk) == services.Outcome.DONE
    message = Message.objects.get(pk=accepted.message.pk)
    assert (message.status, message.error_code) == ("failed", "opted_out")
    assert used_this_month(number) == 0
    assert not SimulatorPhoneMessage.objects.exists()


def test_another_organisations_opt_out_does_not_stop_a_message(
    other_org, recruiter, alex, number, immediate
):
    accepted = services.send_message(recruiter, alex, "Hello")
    PhoneOptOut.objects.create(organization=other_org, phone=alex.mobile)
    assert services.deliver(accepted.message.pk) == services.Outcome.DONE
    assert Message.objects.get(pk=accepted.message.pk).status == "sent"


def test_deliver_twice_sends_once(recruiter, alex, number, immediate):
    accepted = services.send_message(recruiter, alex, "Hello")
    services.deliver(accepted.message.pk)
    services.deliver(accepted.message.pk)
    assert SimulatorPhoneMessage.objects.count() == 1


def test_the_accepted_answer_is_what_its_schema_gives(api_as, recruiter, alex, number):
    """The send answers without validating its body against `Accepted` again: it must stay
    exactly what the schema (and ninja's renderer) would give, headers included."""
    from hiretext.api.messaging import Accepted

    api = api_as(recruiter)
    sent = api.post("/messages", {"candidate_id": alex.pk, "body": "Hi <b>there</b>"})
    assert sent.status_code == 202
    body = sent.json()
    assert body == Accepted.model_validate(body).model_dump(mode="json")
    assert list(body) == list(Accepted.model_fields)
    assert body["status"] == "queued" and body["segments"] == 1
    shown = api.get(f"/messages/{body['id']}")
    assert sent["Content-Type"] == shown["Content-Type"] == "application/json; charset=utf-8"
    again = api.post(
        "/messages",
        {"candidate_id": alex.pk, "body": "Hi <b>there</b>"},
        headers={"Idempotency-Key": "k1"},
    )
    replay = api.post(
        "/messages",
        {"candidate_id": alex.pk, "body": "Hi <b>there</b>"},
        headers={"Idempotency-Key": "k1"},
    )
    assert again.status_code == replay.status_code == 202
    assert again.content == replay.content


def test_phone_opted_out_reads_the_organisations_row_only(org, other_org):
    PhoneOptOut.objects.create(organization=other_org, phone=ALEX, wording="STOP")
    assert not services.phone_opted_out(org.pk, ALEX)
    assert services.phone_opted_out(other_org.pk, ALEX)
    PhoneOptOut.objects.create(organization=org, phone=ALEX, wording="STOP")
    assert services.phone_opted_out(org.pk, ALEX)
    assert not services.phone_opted_out(org.pk, ALEX[:-1] + "9")
    # Hostile input is a value, never SQL.
    assert not services.phone_opted_out(org.pk, "' OR 1=1 --")
