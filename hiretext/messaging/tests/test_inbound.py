"""Webhooks and the inbound pipeline: signatures, idempotency, routing, keywords, timeline."""

import json

import pytest

from hiretext.ats.models import ActivityEntry, ConsentEvent
from hiretext.carriers.simulator.phone_models import SimulatorPhoneMessage
from hiretext.messaging import services
from hiretext.messaging.models import Conversation, Message, PhoneOptOut
from hiretext.messaging.tests.conftest import ALEX, NUMBER, inbound, make_number, signed_post

pytestmark = pytest.mark.django_db


def test_inbound_joins_the_persons_conversation_and_timeline(client, alex, number):
    response = inbound(client, "Yes, 10am works")
    assert response.status_code == 200
    message = Message.objects.get()
    assert (message.direction, message.status, message.body) == (
        "in",
        "received",
        "Yes, 10am works",
    )
    conversation = message.conversation
    assert (conversation.candidate, conversation.number) == (alex, number)
    assert conversation.unread and conversation.last_message_at
    entry = ActivityEntry.objects.get(candidate=alex, kind=ActivityEntry.Kind.SMS_IN)
    assert entry.body == "Yes, 10am works" and entry.ref_id == message.pk


def test_webhook_posted_twice_stores_one_message(client, alex, number):
    assert inbound(client, "Hello", message_id="SIMdup").status_code == 200
    assert inbound(client, "Hello", message_id="SIMdup").status_code == 200
    assert Message.objects.count() == 1
    assert ActivityEntry.objects.filter(kind=ActivityEntry.Kind.SMS_IN).count() == 1


def test_forged_signature_is_403_and_stores_nothing(client, alex, number):
    payload = {"message_id": "SIMx", "from": ALEX, "to": NUMBER, "body": "STOP"}
    response = signed_post(client, "inbound", payload, secret_ok=False)
    assert response.status_code == 403
    response = client.post(
        "/webhooks/simulator/inbound", data=payload, content_type="application/json"
    )
    assert response.status_code == 403
    assert not Message.objects.exists()
    alex.refresh_from_db()
    assert not alex.sms_opted_out


def test_signature_covers_the_raw_body(client, alex, number):
    raw = json.dumps({"message_id": "a", "from": ALEX, "to": NUMBER, "body": "hi"}).encode()
    signature = signed_post.__globals__["phones"].sign(raw)
    tampered = raw.replace(b"hi", b"STOP")
    response = client.post(
        "/webhooks/simulator/inbound",
        data=tampered,
        content_type="application/json",
        headers={"X-Simulator-Signature": signature},
    )
    assert response.status_code == 403
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"from": "+14155550123", "to": "+14155550100", "body": "hi"}',  # no message_id
        b'{"message_id": "x", "from": "nobody", "to": "+14155550100", "body": "hi"}',
        b'{"message_id": "x", "from": "+14155550123", "to": "+14155550100", "body": 5}',
        b'{"message_id": "' + b"x" * 65 + b'", "from": "+14155550123", "to": "+1415", "body": ""}',
        b"\xff\xfe",
    ],
)
def test_malformed_inbound_is_400(client, alex, number, raw):
    response = signed_post(client, "inbound", None, raw=raw)
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_oversized_webhook_is_refused(client, alex, number, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = {"message_id": "big", "from": ALEX, "to": NUMBER, "body": "x" * 5000}
    response = signed_post(client, "inbound", payload)
    assert response.status_code == 413
    assert not Message.objects.exists()


def test_unknown_carrier_is_404_and_get_is_405(client):
    assert (
        client.post(
            "/webhooks/nope/inbound", data=b"{}", content_type="application/json"
        ).status_code
        == 404
    )
    assert client.get("/webhooks/simulator/inbound").status_code == 405


def test_text_to_a_number_not_ours_is_acknowledged_and_dropped(client, alex, number):
    response = inbound(client, "hi", to="+14155550199")
    assert response.status_code == 200
    assert response.json()["stored"] == 0
    assert not Message.objects.exists()


def test_unknown_phone_opens_an_unlinked_conversation_a_user_can_link(
    client, api_as, recruiter, alex, number
):
    response = inbound(client, "Hi, this is Sam", sender="+14155550177")
    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.person is None and conversation.phone == "+14155550177"
    listed = api_as(recruiter).get("/conversations").json()["items"]
    assert listed[0]["person"] is None and listed[0]["phone"] == "+14155550177"
    linked = api_as(recruiter).post(
        f"/conversations/{conversation.pk}/link", {"candidate_id": alex.pk}
    )
    assert linked.status_code == 200, linked.content
    assert linked.json()["person"] == {"type": "candidate", "id": alex.pk, "name": "Alex Rivera"}
    assert Message.objects.get().conversation.candidate == alex
    assert ActivityEntry.objects.filter(candidate=alex, kind="sms_in").exists()


def test_linking_merges_into_the_existing_conversation(client, recruiter, alex, number):
    services.send_message(recruiter, alex, "Hello")
    inbound(client, "It's me from my other phone", sender="+14155550177")
    unknown = Conversation.objects.get(candidate__isnull=True)
    from hiretext.messaging.inbound import link_conversation

    target = link_conversation(recruiter, unknown, alex)
    assert Conversation.objects.count() == 1
    assert target.messages.count() == 2


def test_a_contact_is_found_when_no_candidate_matches(client, nora, number):
    inbound(client, "Call me", sender=nora.mobile)
    assert Message.objects.get().conversation.contact == nora


def test_conversations_are_per_number(client, org, recruiter, make_user, alex, number):
    other = make_user("recruiter2@acme.test")
    make_number(org, [other], e164="+14155550101", position=2)
    inbound(client, "to one", message_id="m1")
    inbound(client, "to two", to="+14155550101", message_id="m2")
    assert Conversation.objects.filter(candidate=alex).count() == 2


# --- keywords ------------------------------------------------------------------------------


def replies():
    return list(Message.objects.filter(direction="out", category="automatic").order_by("id"))


@pytest.mark.parametrize(
    "word",
    [
        "STOP",
        "stop",
        "  Stop. ",
        "STOP ALL",
        "unsubscribe!",
        "Quit",
        "opt out",
        "REVOKE",
        "cancel",
        "end",
    ],
)
def test_stop_family_opts_out_org_wide_with_one_confirmation(
    client, org, recruiter, make_user, alex, number, word
):
    # The same phone is also a contact, and another number of the organisation exists.
    other = make_user("recruiter2@acme.test")
    make_number(org, [other], e164="+14155550101", position=2)
    inbound(client, word, message_id="stop1")
    inbound(client, word, message_id="stop1")  # carrier retry
    inbound(client, word, message_id="stop2")  # they say it again: already out, no reply
    alex.refresh_from_db()
    assert alex.sms_opted_out and not alex.sms_consent
    event = ConsentEvent.objects.get(candidate=alex, granted=False)
    assert (event.source, event.wording) == ("sms_keyword", word)
    [reply] = replies()
    assert "unsubscribed" in reply.body and "START" in reply.body
    assert PhoneOptOut.objects.filter(organization=org, phone=ALEX).exists()
    # Org-wide: the other number cannot text them either.
    with pytest.raises(Exception) as refused:
        services.send_message(other, alex, "hello?")
    assert refused.value.code == "opted_out"


def test_confirmation_is_actually_sent(
    client, alex, number, immediate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        inbound(client, "STOP")
    [received] = SimulatorPhoneMessage.objects.filter(phone=ALEX, direction="to_phone")
    assert "unsubscribed" in received.body
    assert replies()[0].status == "delivered"


def test_start_opts_back_in_with_one_confirmation(client, api_as, recruiter, alex, number):
    inbound(client, "STOP", message_id="a")
    inbound(client, "Start", message_id="b")
    alex.refresh_from_db()
    assert alex.sms_consent and not alex.sms_opted_out
    assert [
        ("unsubscribed" in r.body, "subscribed to texts again" in r.body) for r in replies()
    ] == [
        (True, False),
        (False, True),
    ]
    assert not PhoneOptOut.objects.exists()
    assert (
        api_as(recruiter)
        .post("/messages", {"candidate_id": alex.pk, "body": "Welcome back"})
        .status_code
        == 202
    )


def test_yes_from_a_subscribed_person_is_just_a_message(client, alex, number):
    inbound(client, "Yes")
    assert replies() == []
    assert Message.objects.get().body == "Yes"


def test_help_answers_with_name_contact_opt_out_and_rates(client, org, alex, number):
    org.sms_help_text = "Questions? jobs@acme.test"
    org.save()
    inbound(client, "help", message_id="h1")
    inbound(client, "INFO", message_id="h2")
    first, second = replies()
    for text in (first.body, second.body):
        assert "Acme Staffing" in text
        assert "jobs@acme.test" in text
        assert "STOP" in text
        assert "Msg & data rates may apply" in text
    alex.refresh_from_db()
    assert alex.sms_consent  # HELP changes nothing


def test_stop_from_an_unknown_phone_is_remembered(client, org, recruiter, number):
    inbound(client, "stop", sender="+14155550166")
    assert PhoneOptOut.objects.filter(phone="+14155550166").exists()
    assert len(replies()) == 1
    from hiretext.messaging.tests.conftest import make_candidate

    later = make_candidate(org, recruiter, mobile="+14155550166")
    with pytest.raises(Exception) as refused:
        services.send_message(recruiter, later, "hi")
    assert refused.value.code == "opted_out"


def test_hostile_body_is_stored_verbatim_and_escaped(client, admin, alex, number):
    from hiretext.messaging.tests.conftest import make_number as _mk  # noqa: F401

    inbound(client, "<script>alert(1)</script>")
    message = Message.objects.get()
    assert message.body == "<script>alert(1)</script>"


# --- status callbacks ----------------------------------------------------------------------


def _sent(recruiter, alex):
    accepted = services.send_message(recruiter, alex, "Hello")
    services.deliver(accepted.message.pk)
    return Message.objects.get(pk=accepted.message.pk)


def test_status_moves_forward_only(client, recruiter, alex, number):
    message = _sent(recruiter, alex)
    assert message.status == "sent"
    post = lambda status, **extra: signed_post(  # noqa: E731
        client, "status", {"message_id": message.external_id, "status": status, **extra}
    )
    assert post("delivered").status_code == 200
    assert post("sending").status_code == 200
    assert post("undelivered", error_code="30006").status_code == 200
    message.refresh_from_db()
    assert message.status == "delivered" and message.error_code == ""


def test_status_21610_opts_out(client, recruiter, alex, number):
    message = _sent(recruiter, alex)
    signed_post(
        client,
        "status",
        {"message_id": message.external_id, "status": "failed", "error_code": "21610"},
    )
    message.refresh_from_db()
    alex.refresh_from_db()
    assert message.status == "failed" and message.error_code == "21610"
    assert alex.sms_opted_out


@pytest.mark.parametrize(
    "payload",
    [{"message_id": "x", "status": "exploded"}, {"status": "delivered"}, {"message_id": "x"}],
)
def test_malformed_status_is_400(client, recruiter, alex, number, payload):
    assert signed_post(client, "status", payload).status_code == 400


def test_status_for_an_unknown_message_changes_nothing(client, alex, number):
    response = signed_post(client, "status", {"message_id": "SIMnope", "status": "delivered"})
    assert response.status_code == 200 and response.json()["matched"] == 0


def test_forged_status_is_403(client, recruiter, alex, number):
    message = _sent(recruiter, alex)
    payload = {"message_id": message.external_id, "status": "failed"}
    assert signed_post(client, "status", payload, secret_ok=False).status_code == 403
    message.refresh_from_db()
    assert message.status == "sent"
