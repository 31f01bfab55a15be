"""POST /webhooks/twilio/inbound|status through the generic webhook view: codes and effects."""

import pytest
from django.utils import timezone

from hiretext.messaging.models import Message
from hiretext.numbers.models import PhoneNumber, Seat
from tests.mocks.twilio_api import configure_twilio

NUMBER = "+14155550100"
ALEX = "+14155550142"
SMS_SID = "SM" + "1234567890abcdef" * 2
OTHER_SID = "AC" + "fedcba9876543210" * 2
OTHER_TOKEN = "0therT0ken0therT0ken0therT0ken12"

pytestmark = pytest.mark.django_db


def hold(org, e164=NUMBER, carrier="twilio", position=1):
    seat = Seat.objects.create(organization=org, position=position)
    return PhoneNumber.objects.create(
        organization=org,
        seat=seat,
        e164=e164,
        carrier=carrier,
        carrier_id="PN" + "0" * 32,
        purchased_at=timezone.now(),
    )


def inbound(**extra):
    return {"MessageSid": SMS_SID, "From": ALEX, "To": NUMBER, "Body": "Hello there", **extra}


@pytest.fixture
def ours(twilio_org):
    hold(twilio_org.org)
    return twilio_org


def test_inbound_is_stored_once_and_answered_with_twiml(ours, client):
    for _ in range(2):  # Twilio retries on timeouts: the second delivery stores nothing
        res = ours.post(client, "inbound", inbound())
        assert res.status_code == 200
        assert res["Content-Type"] == "text/xml; charset=utf-8"
        assert res.content.decode() == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    stored = Message.objects.get(carrier="twilio", external_id=SMS_SID)
    assert (stored.body, stored.status) == ("Hello there", "received")


def test_mms_media_urls_reach_the_event(ours, client, monkeypatch):
    from hiretext.messaging import inbound as inbound_module

    seen = []
    real = inbound_module.record_inbound

    def spy(carrier, event):
        seen.append(event)
        return real(carrier, event)

    monkeypatch.setattr(inbound_module, "record_inbound", spy)
    url = "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1"
    res = ours.post(client, "inbound", inbound(NumMedia="1", MediaUrl0=url, Body=""))
    assert res.status_code == 200
    assert seen[0].media_urls == (url,)


def test_forged_missing_and_wrong_account_are_403_and_store_nothing(ours, client, other_org):
    assert ours.post(client, "inbound", inbound(), signature="Zm9yZ2Vk").status_code == 403
    assert ours.post(client, "inbound", inbound(), signature="").status_code == 403
    signed_elsewhere = ours.sign("https://evil.example.com/webhooks/twilio/inbound", inbound())
    assert ours.post(client, "inbound", inbound(), signature=signed_elsewhere).status_code == 403
    assert not Message.objects.exists()


def test_another_twilio_account_cannot_post_for_our_number(ours, client, other_org):
    configure_twilio(other_org, account_sid=OTHER_SID, auth_token=OTHER_TOKEN)
    ours.account_sid, ours.auth_token = OTHER_SID, OTHER_TOKEN  # a validly signed request…
    res = ours.post(client, "inbound", inbound())  # …to a number of another account
    assert res.status_code == 403
    assert (
        ours.post(
            client,
            "status",
            {
                "MessageSid": SMS_SID,
                "MessageStatus": "failed",
                "ErrorCode": "21610",
                "From": NUMBER,
                "To": ALEX,
            },
        ).status_code
        == 403
    )
    assert not Message.objects.exists()


def test_a_simulator_number_cannot_be_reached_through_twilio(twilio_org, client):
    hold(twilio_org.org, e164="+14155550177", carrier="simulator", position=2)
    res = twilio_org.post(client, "inbound", inbound(To="+14155550177"))
    assert res.status_code == 403


@pytest.mark.parametrize(
    "bad",
    [{"MessageSid": ""}, {"To": "not-a-number"}, {"From": "<script>"}, {"Body": "x" * 10_001}],
)
def test_malformed_is_400_never_500(ours, client, bad):
    res = ours.post(client, "inbound", inbound(**bad))
    assert res.status_code == 400
    assert not Message.objects.exists()


def test_an_oversized_body_is_refused_not_a_crash(ours, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5_000
    res = ours.post(client, "inbound", inbound(Body="y" * 6_000))
    assert res.status_code in (400, 413)
    assert not Message.objects.exists()


def test_get_is_not_allowed(client, db):
    assert client.get("/webhooks/twilio/inbound").status_code == 405


def test_status_reports_move_the_message_forward_only(ours, client, org, recruiter):
    from hiretext.messaging.models import Conversation

    number = PhoneNumber.objects.get(e164=NUMBER)
    conversation = Conversation.objects.create(organization=org, number=number, phone=ALEX)
    message = Message.objects.create(
        organization=org,
        conversation=conversation,
        direction="out",
        body="Hi",
        status="sending",
        carrier="twilio",
        external_id=SMS_SID,
    )

    def report(status, **extra):
        form = {"MessageSid": SMS_SID, "MessageStatus": status, "From": NUMBER, "To": ALEX}
        res = ours.post(client, "status", {**form, **extra})
        assert res.status_code == 200
        assert res.content == b""
        message.refresh_from_db()
        return message.status

    assert report("sent") == "sent"
    assert report("delivered") == "delivered"
    assert report("sent") == "delivered"  # late and out of order: ignored
    assert report("brand_new_status") == "delivered"  # acknowledged, moves nothing
