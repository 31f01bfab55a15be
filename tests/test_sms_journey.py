"""The whole SMS journey, once per carrier: the simulator, and Twilio against the Prism mock.

An administrator sets the carrier up and buys a number, a recruiter is put on it and texts a
consenting candidate, the carrier reports delivery, the candidate replies (a retried webhook
stores nothing twice), a forged webhook is refused, STOP opts the candidate out with one
confirmation, and a carrier's 21610 report opts another person out.
"""

import pytest

from hiretext.ats.models import Candidate, ConsentEvent
from hiretext.ats.services import create_person
from hiretext.messaging.models import Message
from hiretext.numbers.services import ensure_seats

ALEX = "+14155550123"
SAM = "+14155550124"
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

pytestmark = pytest.mark.django_db


def candidate(org, actor, first, mobile):
    return create_person(
        Candidate,
        org,
        actor,
        {"first_name": first, "last_name": "Rivera", "mobile": mobile},
        sms_consent=True,
        consent_note="Agreed when applying",
    )


@pytest.fixture
def setup(org, admin, recruiter, api_as, carrier_driver, settings):
    """A number bought through the carrier, the recruiter on it, two consenting candidates."""
    settings.TASKS = IMMEDIATE
    carrier_driver.configure(api_as(admin))
    seat = ensure_seats(org, 1)[0]
    manage = api_as(admin)
    bought = manage.post(
        f"/seats/{seat.pk}/number",
        json={"mode": "auto", "area_code": "808", "terms_accepted": True},
    )
    assert bought.status_code == 201, bought.content
    number = bought.json()["number"]
    assert number["e164"].startswith("+1808")
    assert manage.post(f"/seats/{seat.pk}/users", json={"user_id": recruiter.pk}).status_code == 201
    return {
        "number": number["e164"],
        "alex": candidate(org, recruiter, "Alex", ALEX),
        "sam": candidate(org, recruiter, "Sam", SAM),
        "api": api_as(recruiter),
    }


def send(api, person, body, capture):
    with capture(execute=True):
        res = api.post("/messages", {"candidate_id": person.pk, "channel": "sms", "body": body})
    assert res.status_code == 202, res.content
    return res.json()


def test_the_sms_journey(
    setup, carrier_driver, client, django_capture_on_commit_callbacks, org, request
):
    api, alex, ours = setup["api"], setup["alex"], setup["number"]
    capture = django_capture_on_commit_callbacks

    # Out: accepted, handed to the carrier, reported delivered.
    accepted = send(api, alex, "Hi Alex, <b>are</b> you free Tuesday? 👍", capture)
    assert accepted["status"] == "queued"
    with capture(execute=True):
        carrier_driver.report(client)
    message = api.get(f"/messages/{accepted['id']}").json()
    assert message["status"] == "delivered"
    sent = Message.objects.get(pk=accepted["id"])
    assert (sent.carrier, sent.external_id[:2]) == (
        carrier_driver.slug,
        "SM" if carrier_driver.slug == "twilio" else "SI",
    )
    assert carrier_driver.received(ALEX) == ["Hi Alex, <b>are</b> you free Tuesday? 👍"]

    # In: the reply joins the conversation; the carrier's retry stores nothing twice.
    with capture(execute=True):
        reply_id, status, response = carrier_driver.text_in(client, ALEX, ours, "Yes, 10am works")
    assert status == 200
    if carrier_driver.slug == "twilio":
        assert response["Content-Type"].startswith("text/xml")
        assert b"<Response/>" in response.content
    with capture(execute=True):
        _, status, _ = carrier_driver.text_in(client, ALEX, ours, "Yes, 10am works", reply_id)
    assert status == 200
    conversation = api.get("/conversations").json()["items"][0]
    assert conversation["person"]["id"] == alex.pk and conversation["unread"]
    bodies = [
        m["body"] for m in api.get(f"/conversations/{conversation['id']}/messages").json()["items"]
    ]
    assert bodies == ["Yes, 10am works", "Hi Alex, <b>are</b> you free Tuesday? 👍"]
    assert Message.objects.filter(external_id=reply_id).count() == 1

    # A forged webhook is refused and stores nothing.
    before = Message.objects.count()
    forged = carrier_driver.forge(
        client,
        "inbound",
        {"From": ALEX, "To": ours, "Body": "forged", "MessageSid": "SM" + "9" * 32}
        if carrier_driver.slug == "twilio"
        else {"message_id": "SIMforged", "from": ALEX, "to": ours, "body": "forged"},
    )
    assert forged.status_code == 403
    assert Message.objects.count() == before

    # STOP: opted out everywhere in the organisation, one confirmation, sends refused.
    with capture(execute=True):
        carrier_driver.text_in(client, ALEX, ours, "  Stop. ")
    with capture(execute=True):
        carrier_driver.report(client)
    alex.refresh_from_db()
    assert alex.sms_opted_out and not alex.sms_consent
    confirmations = carrier_driver.received(ALEX)[1:]
    assert len(confirmations) == 1 and "unsubscribed" in confirmations[0]
    refused = api.post("/messages", {"candidate_id": alex.pk, "channel": "sms", "body": "Hi?"})
    assert (refused.status_code, refused.json()["code"]) == (422, "opted_out")

    # The carrier reports 21610 for another person: opted out too, with the reason kept.
    sam = setup["sam"]
    carrier_driver.fail_next(SAM, "failed", "21610")
    accepted = send(api, sam, "Hi Sam", capture)
    with capture(execute=True):
        carrier_driver.report(client)
    failed = Message.objects.get(pk=accepted["id"])
    assert (failed.status, failed.error_code) == ("failed", "21610")
    sam.refresh_from_db()
    assert sam.sms_opted_out
    assert ConsentEvent.objects.filter(candidate=sam, source="carrier", granted=False).exists()


def test_a_delivery_failure_keeps_its_reason(
    setup, carrier_driver, client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    carrier_driver.fail_next(ALEX, "undelivered", "30003")
    accepted = send(setup["api"], setup["alex"], "Hello", capture)
    with capture(execute=True):
        carrier_driver.report(client)
    message = Message.objects.get(pk=accepted["id"])
    assert (message.status, message.error_code) == ("undelivered", "30003")
    assert message.error_message
