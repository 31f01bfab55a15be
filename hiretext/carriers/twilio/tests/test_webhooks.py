"""Twilio's webhooks: signatures computed by the SDK's RequestValidator, forms parsed to events."""

from urllib.parse import urlencode

import pytest
from django.test import RequestFactory
from twilio.request_validator import RequestValidator

from hiretext.carriers.base import InvalidSignature, MalformedWebhook
from hiretext.carriers.twilio.carrier import EMPTY_TWIML, TwilioCarrier
from hiretext.carriers.twilio.credentials import TwilioCredentials
from tests.mocks.twilio_api import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, configure_twilio

INBOUND = "/webhooks/twilio/inbound"
STATUS = "/webhooks/twilio/status"
SMS_SID = "SM" + "1234567890abcdef" * 2
OTHER_SID = "AC" + "fedcba9876543210" * 2
OTHER_TOKEN = "0therT0ken0therT0ken0therT0ken12"


def inbound_form(**extra):
    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": SMS_SID,
        "SmsMessageSid": SMS_SID,
        "From": "+14155550142",
        "To": "+14155550100",
        "Body": "Yes, Tuesday works",
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return {k: v for k, v in form.items() if v is not None}


def status_form(status="delivered", **extra):
    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": SMS_SID,
        "SmsSid": SMS_SID,
        "MessageStatus": status,
        "SmsStatus": status,
        "From": "+14155550100",
        "To": "+14155550142",
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return {k: v for k, v in form.items() if v is not None}


def signed(path, form, *, url=None, token=AUTH_TOKEN, signature=None, host="testserver", **kw):
    """A POST as Twilio makes it: form-encoded, X-Twilio-Signature over URL + sorted params."""
    url = url or PUBLIC_URL + path
    sig = RequestValidator(token).compute_signature(url, form) if signature is None else signature
    headers = {"HTTP_X_TWILIO_SIGNATURE": sig} if sig else {}
    return RequestFactory().post(
        path,
        data=urlencode(form, doseq=True),
        content_type="application/x-www-form-urlencoded",
        HTTP_HOST=host,
        **headers,
        **kw,
    )


@pytest.fixture
def twilio(org, settings):
    settings.HIRETEXT_PUBLIC_URL = PUBLIC_URL
    configure_twilio(org)
    return TwilioCarrier()  # bare, as the webhook view gets it from the registry


# --- verify -----------------------------------------------------------------------------------


def test_a_request_signed_with_the_orgs_auth_token_passes(twilio):
    twilio.verify(signed(INBOUND, inbound_form()))
    twilio.verify(signed(STATUS, status_form()))


def test_a_forged_signature_is_refused(twilio):
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, inbound_form(), token=OTHER_TOKEN))


def test_a_missing_signature_is_refused(twilio):
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, inbound_form(), signature=""))


@pytest.mark.parametrize("signature", ["x" * 201, "not-base64", "=" * 28])
def test_junk_signatures_are_refused(twilio, signature):
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, inbound_form(), signature=signature))


def test_a_body_changed_after_signing_is_refused(twilio):
    form = inbound_form()
    sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + INBOUND, form)
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, {**form, "Body": "Send me your bank details"}, signature=sig))


def test_a_signature_for_the_other_webhook_is_refused(twilio):
    form = status_form()
    sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + INBOUND, form)
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(STATUS, form, signature=sig))


def test_an_unknown_account_is_refused(twilio):
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, inbound_form(AccountSid=OTHER_SID), token=OTHER_TOKEN))


@pytest.mark.parametrize("account_sid", [None, "", "AC123", "ACxyz" + "0" * 29, "' OR 1=1 --"])
def test_a_missing_or_malformed_account_sid_is_refused(twilio, account_sid):
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, inbound_form(AccountSid=account_sid)))


def test_another_orgs_token_does_not_sign_for_this_account(twilio, other_org):
    configure_twilio(other_org, account_sid=OTHER_SID, auth_token=OTHER_TOKEN)
    twilio.verify(signed(INBOUND, inbound_form(AccountSid=OTHER_SID), token=OTHER_TOKEN))
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, inbound_form(AccountSid=ACCOUNT_SID), token=OTHER_TOKEN))


def test_an_org_that_went_back_to_the_simulator_no_longer_verifies(twilio, org):
    from hiretext.carrier_accounts.models import CarrierAccount

    CarrierAccount.objects.filter(organization=org).update(carrier="simulator")
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, inbound_form()))


def test_behind_a_proxy_the_public_url_is_what_twilio_signed(twilio):
    # The proxy forwards to http://10.0.0.5:8000; Twilio signed https://hiretext.example.com/…
    request = signed(INBOUND, inbound_form(), host="10.0.0.5:8000")
    twilio.verify(request)
    internal = signed(
        INBOUND, inbound_form(), url="http://10.0.0.5:8000" + INBOUND, host="10.0.0.5:8000"
    )
    with pytest.raises(InvalidSignature):
        twilio.verify(internal)


def test_a_public_url_with_a_path_prefix(twilio, settings):
    settings.HIRETEXT_PUBLIC_URL = "https://example.com/hiretext"
    url = "https://example.com/hiretext" + INBOUND
    twilio.verify(signed(INBOUND, inbound_form(), url=url))  # the proxy strips the prefix
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, inbound_form(), url=PUBLIC_URL + INBOUND))


def test_the_query_string_is_signed_too(twilio):
    form = inbound_form()
    url = PUBLIC_URL + INBOUND + "?org=1"
    request = signed(INBOUND + "?org=1", form, url=url)
    twilio.verify(request)
    with pytest.raises(InvalidSignature):
        twilio.verify(
            signed(INBOUND + "?org=2", form, signature=request.headers["X-Twilio-Signature"])
        )


def test_twilios_port_variants_are_accepted(twilio):
    twilio.verify(signed(INBOUND, inbound_form(), url="https://hiretext.example.com:443" + INBOUND))


def test_without_a_public_url_the_request_url_is_used(twilio, settings):
    settings.HIRETEXT_PUBLIC_URL = ""
    twilio.verify(signed(INBOUND, inbound_form(), url="http://testserver" + INBOUND))
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, inbound_form()))


def test_json_bodies_are_not_twilio(twilio):
    request = RequestFactory().post(
        INBOUND,
        data='{"AccountSid": "x"}',
        content_type="application/json",
        HTTP_X_TWILIO_SIGNATURE="abc",
    )
    with pytest.raises(InvalidSignature):
        twilio.verify(request)


def test_an_oversized_body_is_malformed_not_a_crash(twilio, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    with pytest.raises(MalformedWebhook):
        twilio.verify(signed(INBOUND, inbound_form(Body="x" * 20_000)))


def test_too_many_fields_is_malformed(twilio):
    form = inbound_form(**{f"F{i}": "1" for i in range(1200)})
    with pytest.raises(MalformedWebhook):
        twilio.verify(signed(INBOUND, form))


def test_a_token_that_can_no_longer_be_decrypted_verifies_nothing(twilio, settings):
    from cryptography.fernet import Fernet

    settings.HIRETEXT_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(InvalidSignature):
        twilio.verify(signed(INBOUND, inbound_form()))


def test_a_configured_carrier_uses_its_own_token(settings, db):
    settings.HIRETEXT_PUBLIC_URL = PUBLIC_URL
    carrier = TwilioCarrier(TwilioCredentials(ACCOUNT_SID, AUTH_TOKEN))
    carrier.verify(signed(INBOUND, inbound_form()))
    with pytest.raises(InvalidSignature):
        carrier.verify(signed(INBOUND, inbound_form(AccountSid=OTHER_SID)))


# --- parse ------------------------------------------------------------------------------------


def test_inbound_sms_becomes_one_event(twilio):
    (event,) = twilio.parse_inbound(signed(INBOUND, inbound_form()))
    assert event.external_id == SMS_SID
    assert (event.from_e164, event.to_e164) == ("+14155550142", "+14155550100")
    assert event.body == "Yes, Tuesday works"
    assert event.account_ref == ACCOUNT_SID
    assert event.media_urls == ()
    assert event.raw["MessageSid"] == SMS_SID


def test_mms_media_urls_are_kept_in_order(twilio):
    media = {
        "NumMedia": "3",
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME0",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": "javascript:alert(1)",
        "MediaUrl2": "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME2",
    }
    (event,) = twilio.parse_inbound(
        signed(INBOUND, inbound_form(MessageSid="MM" + "1" * 32, Body="", **media))
    )
    assert event.external_id.startswith("MM")
    assert event.body == ""
    assert event.media_urls == (media["MediaUrl0"], media["MediaUrl2"])


def test_hostile_bodies_arrive_verbatim(twilio):
    body = "<img src=x onerror=alert(1)> {{ secret }} {% debug %} \x00 😀"
    (event,) = twilio.parse_inbound(signed(INBOUND, inbound_form(Body=body)))
    assert event.body == body  # escaping is the renderer's job; nothing is lost here


def test_the_same_message_parses_to_the_same_id(twilio):
    first = twilio.parse_inbound(signed(INBOUND, inbound_form()))[0]
    again = twilio.parse_inbound(signed(INBOUND, inbound_form()))[0]
    assert first.external_id == again.external_id  # services dedup on it


@pytest.mark.parametrize(
    "bad",
    [
        {"MessageSid": None},
        {"MessageSid": "SM123"},
        {"MessageSid": "<script>" + "a" * 26},
        {"To": None},
        {"To": "4155550100"},
        {"To": "whatsapp:+14155550100"},
        {"From": None},
        {"From": "+1 (415) 555-0142"},
        {"Body": "x" * 10_001},
    ],
)
def test_malformed_inbound_is_refused(twilio, bad):
    with pytest.raises(MalformedWebhook):
        twilio.parse_inbound(signed(INBOUND, inbound_form(**bad)))


@pytest.mark.parametrize(
    ("twilio_status", "ours"),
    [
        ("accepted", "sending"),
        ("queued", "sending"),
        ("sending", "sending"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "delivered"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        ("canceled", "failed"),
        ("DELIVERED", "delivered"),
    ],
)
def test_statuses_map_to_ours(twilio, twilio_status, ours):
    (update,) = twilio.parse_status(signed(STATUS, status_form(twilio_status)))
    assert update.external_id == SMS_SID
    assert update.status == ours
    assert update.account_ref == ACCOUNT_SID


def test_sms_status_is_read_when_message_status_is_absent(twilio):
    (update,) = twilio.parse_status(signed(STATUS, status_form(MessageStatus=None)))
    assert update.status == "delivered"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("30003", "Unreachable handset"),
        ("30004", "blocked"),
        ("30005", "Unknown handset"),
        ("30006", "Landline"),
        ("30007", "Filtered"),
        ("30008", "unknown delivery error"),
        ("21211", "not valid"),
        ("31999", "Twilio error 31999"),
    ],
)
def test_failures_carry_a_readable_reason(twilio, code, reason):
    (update,) = twilio.parse_status(signed(STATUS, status_form("undelivered", ErrorCode=code)))
    assert update.status == "undelivered"
    assert update.error_code == code
    assert reason in update.error_message
    assert update.opt_out is False


def test_21610_is_an_opt_out(twilio):
    (update,) = twilio.parse_status(signed(STATUS, status_form("failed", ErrorCode="21610")))
    assert update.status == "failed"
    assert update.opt_out is True
    assert "unsubscribed" in update.error_message


def test_a_delivered_report_ignores_a_stray_error_code(twilio):
    (update,) = twilio.parse_status(signed(STATUS, status_form("delivered", ErrorCode="30008")))
    assert (update.error_code, update.error_message, update.opt_out) == ("", "", False)


@pytest.mark.parametrize("twilio_status", ["received", "receiving", "brand_new_status"])
def test_statuses_that_move_nothing_are_acknowledged(twilio, twilio_status):
    assert twilio.parse_status(signed(STATUS, status_form(twilio_status))) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"MessageStatus": None, "SmsStatus": None},
        {"MessageStatus": "x" * 41, "SmsStatus": None},
        {"MessageSid": None},
        {"ErrorCode": "30003; DROP TABLE"},
    ],
)
def test_malformed_status_reports_are_refused(twilio, bad):
    with pytest.raises(MalformedWebhook):
        twilio.parse_status(signed(STATUS, status_form("failed", **bad)))


# --- answers ----------------------------------------------------------------------------------


def test_inbound_is_answered_with_empty_twiml_status_with_an_empty_200():
    carrier = TwilioCarrier()
    inbound = carrier.webhook_response("inbound")
    assert inbound.status_code == 200
    assert inbound["Content-Type"].startswith("text/xml")
    assert inbound.content.decode() == EMPTY_TWIML
    status = carrier.webhook_response("status")
    assert (status.status_code, status.content) == (200, b"")
