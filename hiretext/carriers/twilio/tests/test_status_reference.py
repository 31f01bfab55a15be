"""Our message id in Twilio's status callback URL: signed with it, and finding the message
whose send Twilio has not answered yet."""

from urllib.parse import urlencode, urlsplit

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from hiretext.carriers.base import OutboundSms
from hiretext.carriers.twilio.carrier import TwilioCarrier
from hiretext.carriers.twilio.credentials import TwilioCredentials
from hiretext.messaging.models import Conversation, Message, PhoneOptOut
from hiretext.numbers.models import PhoneNumber, Seat
from tests.mocks.twilio_api import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, configure_twilio

NUMBER = "+14155550100"
OTHER_NUMBER = "+14155550190"
ALEX = "+14155550142"
SMS_SID = "SM" + "1234567890abcdef" * 2
OTHER_SMS_SID = "SM" + "abcdef1234567890" * 2
OTHER_SID = "AC" + "fedcba9876543210" * 2
OTHER_TOKEN = "0therT0ken0therT0ken0therT0ken12"

pytestmark = pytest.mark.django_db


def claimed(org, e164=NUMBER, position=1, external_id=""):
    """An outbound text the worker has handed to Twilio, its answer not recorded yet."""
    seat = Seat.objects.create(organization=org, position=position)
    number = PhoneNumber.objects.create(
        organization=org,
        seat=seat,
        e164=e164,
        carrier="twilio",
        carrier_id="PN" + str(position) * 32,
        purchased_at=timezone.now(),
    )
    conversation = Conversation.objects.create(organization=org, number=number, phone=ALEX)
    return Message.objects.create(
        organization=org,
        conversation=conversation,
        direction="out",
        body="Hi",
        status="sending",
        carrier="twilio",
        external_id=external_id,
        attempts=1,
    )


def report(client, callback_url, status="delivered", *, sid=SMS_SID, sender=NUMBER, **kw):
    """Twilio's status callback to `callback_url` (with its query), signed as Twilio signs."""
    account_sid = kw.pop("account_sid", ACCOUNT_SID)
    token = kw.pop("token", AUTH_TOKEN)
    signed_url = kw.pop("signed_url", callback_url)
    form = {
        "AccountSid": account_sid,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "From": sender,
        "To": ALEX,
        "ApiVersion": "2010-04-01",
        **kw,
    }
    parts = urlsplit(callback_url)
    return client.post(
        f"{parts.path}?{parts.query}" if parts.query else parts.path,
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": RequestValidator(token).compute_signature(signed_url, form)},
    )


def callback_for(message_id):
    return f"{PUBLIC_URL}/webhooks/twilio/status?{urlencode({'reference': message_id})}"


def test_the_callback_url_twilio_is_given_verifies_and_finds_the_message(twilio_org, client):
    message = claimed(twilio_org.org)
    TwilioCarrier(TwilioCredentials(ACCOUNT_SID, AUTH_TOKEN)).send(
        OutboundSms(from_e164=NUMBER, to_e164=ALEX, body="Hi", message_id=message.pk)
    )
    (call,) = twilio_org.mock.called("POST", "/Messages.json")
    callback = call.data["StatusCallback"]
    assert callback == callback_for(message.pk)
    response = report(client, callback)  # before the send's answer was recorded
    assert response.status_code == 200
    message.refresh_from_db()
    assert (message.status, message.external_id) == ("delivered", SMS_SID)
    assert message.sent_at is not None and message.delivered_at is not None


def test_the_reference_is_signed_a_changed_one_is_refused(twilio_org, client):
    ours, other = claimed(twilio_org.org), claimed(twilio_org.org, OTHER_NUMBER, 2)
    response = report(client, callback_for(other.pk), signed_url=callback_for(ours.pk))
    assert response.status_code == 403
    for message in (ours, other):
        message.refresh_from_db()
        assert (message.status, message.external_id) == ("sending", "")


@pytest.mark.parametrize("reference", ["abc", "12a", "-1", "1" * 20, "１２", "1 2"])
def test_a_malformed_reference_is_400(twilio_org, client, reference):
    message = claimed(twilio_org.org)
    url = f"{PUBLIC_URL}/webhooks/twilio/status?{urlencode({'reference': reference})}"
    response = report(client, url)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"
    message.refresh_from_db()
    assert (message.status, message.external_id) == ("sending", "")


def test_another_accounts_report_cannot_name_our_message(twilio_org, client, other_org):
    """Validly signed by another organisation's account, for its own number, naming ours."""
    ours = claimed(twilio_org.org)
    configure_twilio(other_org, account_sid=OTHER_SID, auth_token=OTHER_TOKEN)
    claimed(other_org, OTHER_NUMBER, 2)
    response = report(
        client,
        callback_for(ours.pk),
        sender=OTHER_NUMBER,
        account_sid=OTHER_SID,
        token=OTHER_TOKEN,
        ErrorCode="21610",
        status="failed",
    )
    assert response.status_code == 200
    ours.refresh_from_db()
    assert (ours.status, ours.external_id) == ("sending", "")
    assert not PhoneOptOut.objects.filter(organization=twilio_org.org).exists()


def test_a_reference_to_a_message_twilio_named_otherwise_changes_nothing(twilio_org, client):
    message = claimed(twilio_org.org, external_id=OTHER_SMS_SID)
    response = report(client, callback_for(message.pk))
    assert response.status_code == 200
    message.refresh_from_db()
    assert (message.status, message.external_id) == ("sending", OTHER_SMS_SID)


def test_without_a_reference_an_unknown_sid_still_changes_nothing(twilio_org, client):
    message = claimed(twilio_org.org)
    response = report(client, f"{PUBLIC_URL}/webhooks/twilio/status")
    assert response.status_code == 200
    message.refresh_from_db()
    assert (message.status, message.external_id) == ("sending", "")
