"""The adapter's REST calls, against Prism serving Twilio's OpenAPI description.

Every request is validated by Prism against the spec; `twilio_settings` fails a test whose
requests do not conform, so each test here also asserts conformance.
"""

import pytest
from twilio.http.response import Response

from hiretext.carriers.base import CarrierError, OutboundSms
from hiretext.carriers.twilio.carrier import TwilioCarrier
from hiretext.carriers.twilio.credentials import TwilioCredentials
from hiretext.carriers.twilio.http import BaseUrlHttpClient
from tests.mocks.twilio_api import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL

API_KEY_SID = "SK" + "fedcba9876543210" * 2
API_KEY_SECRET = "S3cretS3cretS3cretS3cretS3cret12"
SERVICE_SID = "MG" + "00112233445566778899aabbccddeeff"


@pytest.fixture
def creds():
    return TwilioCredentials(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)


@pytest.fixture
def carrier(twilio_settings, creds):
    return TwilioCarrier(creds)


def sms(**kw):
    fields = {
        "from_e164": "+14155550100",
        "to_e164": "+14155550142",
        "body": "Hi Ana",
        "message_id": 7,
    }
    fields.update(kw)
    return OutboundSms(**fields)


def test_search_returns_sms_capable_local_numbers(carrier, twilio_settings):
    found = carrier.search_numbers("415", limit=5)
    assert found and all(n.e164.startswith("+1") for n in found)
    assert found[0].locality  # "Hilo, HI" from the spec's example
    (call,) = twilio_settings.called(
        "GET", f"/Accounts/{ACCOUNT_SID}/AvailablePhoneNumbers/US/Local.json"
    )
    assert call.params["AreaCode"] == "415"
    assert call.params["SmsEnabled"] == "true"


def test_canadian_area_codes_search_canada(carrier, twilio_settings):
    carrier.search_numbers("416", limit=5)
    assert twilio_settings.called("GET", "/AvailablePhoneNumbers/CA/Local.json")
    assert not twilio_settings.called("GET", "/AvailablePhoneNumbers/US/Local.json")


@pytest.mark.parametrize("area_code", ["", "41", "4155", "abc", "015", "41'; DROP"])
def test_search_with_a_malformed_area_code_asks_nothing(carrier, twilio_settings, area_code):
    assert carrier.search_numbers(area_code) == []
    assert twilio_settings.calls == []


def test_buy_sets_our_webhooks_on_the_number(carrier, twilio_settings):
    bought = carrier.buy_number("+14155550100")
    assert bought.e164 == "+14155550100"
    assert bought.carrier_id.startswith("PN") and len(bought.carrier_id) == 34
    (call,) = twilio_settings.called("POST", f"/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json")
    assert call.status == 201
    assert call.data["PhoneNumber"] == "+14155550100"
    assert call.data["SmsUrl"] == f"{PUBLIC_URL}/webhooks/twilio/inbound"
    assert call.data["SmsMethod"] == "POST"
    assert call.data["StatusCallback"] == f"{PUBLIC_URL}/webhooks/twilio/status"


def test_buy_refuses_without_a_public_url(carrier, twilio_settings, settings):
    settings.HIRETEXT_PUBLIC_URL = ""
    with pytest.raises(CarrierError, match="HIRETEXT_PUBLIC_URL"):
        carrier.buy_number("+14155550100")
    assert twilio_settings.calls == []


def test_release_by_sid(carrier, twilio_settings):
    carrier.release_number("+14155550100", "PN" + "ab" * 16)
    (call,) = twilio_settings.called("DELETE", "/IncomingPhoneNumbers/PN" + "ab" * 16 + ".json")
    assert call.status == 204


def test_release_without_a_sid_finds_the_number_first(carrier, twilio_settings):
    # The spec's example list holds +19876543210 only: nothing of ours to delete.
    carrier.release_number("+14155550100", "")
    assert twilio_settings.called("GET", "/IncomingPhoneNumbers.json")
    assert not twilio_settings.called("DELETE", ".json")


def test_send_asks_for_delivery_reports(carrier, twilio_settings):
    receipt = carrier.send(sms())
    assert receipt.external_id.startswith("SM") and len(receipt.external_id) == 34
    assert receipt.status == "sending"  # Twilio "queued": it left our hands
    (call,) = twilio_settings.called("POST", f"/Accounts/{ACCOUNT_SID}/Messages.json")
    assert call.data["To"] == "+14155550142"
    assert call.data["From"] == "+14155550100"
    assert call.data["Body"] == "Hi Ana"
    # Our message id rides along: a report may come before this answer is recorded.
    assert call.data["StatusCallback"] == f"{PUBLIC_URL}/webhooks/twilio/status?reference=7"
    assert "MessagingServiceSid" not in call.data


def test_send_uses_the_given_callback_the_service_and_media(twilio_settings):
    carrier = TwilioCarrier(
        TwilioCredentials(ACCOUNT_SID, AUTH_TOKEN, messaging_service_sid=SERVICE_SID)
    )
    carrier.send(
        sms(
            status_callback_url="https://hooks.example.com/s?m=7",
            media_urls=("https://cdn.example.com/a.jpg", "https://cdn.example.com/b.png"),
        )
    )
    (call,) = twilio_settings.called("POST", "/Messages.json")
    assert call.data["StatusCallback"] == "https://hooks.example.com/s?m=7"
    assert call.data["MessagingServiceSid"] == SERVICE_SID
    assert call.data["MediaUrl"] == [
        "https://cdn.example.com/a.jpg",
        "https://cdn.example.com/b.png",
    ]


def test_hostile_bodies_travel_unchanged(carrier, twilio_settings):
    body = "<script>alert(1)</script> & 'quotes' \u202e 👍" * 3
    carrier.send(sms(body=body))
    assert twilio_settings.called("POST", "/Messages.json")[0].data["Body"] == body


def test_check_connection_fetches_the_account(carrier, twilio_settings):
    assert carrier.check_connection()  # the account's friendly name
    assert twilio_settings.called("GET", f"/Accounts/{ACCOUNT_SID}.json")


def test_api_key_signs_calls_instead_of_the_auth_token(twilio_settings, monkeypatch):
    seen = []
    real = BaseUrlHttpClient.request

    def spy(self, method, url, *args, **kwargs):
        seen.append(kwargs.get("auth"))
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(BaseUrlHttpClient, "request", spy)
    carrier = TwilioCarrier(TwilioCredentials(ACCOUNT_SID, AUTH_TOKEN, API_KEY_SID, API_KEY_SECRET))
    carrier.send(sms())
    assert seen == [(API_KEY_SID, API_KEY_SECRET)]
    assert twilio_settings.called("POST", f"/Accounts/{ACCOUNT_SID}/Messages.json")


def test_api_base_rewrites_only_twilios_host():
    client = BaseUrlHttpClient("http://127.0.0.1:9/base/")
    assert client.rewrite("https://api.twilio.com/2010-04-01/Accounts.json") == (
        "http://127.0.0.1:9/base/2010-04-01/Accounts.json"
    )
    assert (
        client.rewrite("https://api.twilio.com.evil.test/x") == "https://api.twilio.com.evil.test/x"
    )
    assert BaseUrlHttpClient("").rewrite("https://api.twilio.com/x") == "https://api.twilio.com/x"


def test_credentials_never_show_in_repr(creds):
    assert AUTH_TOKEN not in repr(creds)
    assert API_KEY_SECRET not in repr(
        TwilioCredentials(ACCOUNT_SID, AUTH_TOKEN, API_KEY_SID, API_KEY_SECRET)
    )


def test_unreachable_twilio_is_transient(settings, creds):
    settings.HIRETEXT_PUBLIC_URL = PUBLIC_URL
    with socket_closed_port() as port:
        settings.HIRETEXT_TWILIO_API_BASE = f"http://127.0.0.1:{port}"
        with pytest.raises(CarrierError) as caught:
            TwilioCarrier(creds).send(sms())
    assert caught.value.transient
    assert "Could not reach Twilio" in caught.value.message


def socket_closed_port():
    import contextlib
    import socket

    @contextlib.contextmanager
    def closed():
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        yield port

    return closed()


# --- Twilio's error answers (canned: the spec defines no error responses to mock) ----------


class CannedClient(BaseUrlHttpClient):
    """Answers every request with one canned response; reaches no network."""

    def __init__(self, status, body):
        super().__init__("")
        self.status, self.body = status, body

    def request(self, method, url, *args, **kwargs):
        return Response(self.status, self.body, {})


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.HIRETEXT_PUBLIC_URL = PUBLIC_URL


def failing(status, code=None, message="boom"):
    import json

    body = json.dumps({"code": code, "message": message, "status": status})
    return TwilioCarrier(
        TwilioCredentials(ACCOUNT_SID, AUTH_TOKEN),
        api_base="",
        http_client=CannedClient(status, body),
    )


@pytest.mark.parametrize(
    ("status", "code", "transient", "opt_out", "our_code", "reason"),
    [
        (400, 21610, False, True, "21610", "unsubscribed"),
        (400, 21211, False, False, "21211", "not valid"),
        (400, 21614, False, False, "21614", "not a mobile"),
        (429, 20429, True, False, "20429", "rate-limiting"),
        (429, None, True, False, "", "unavailable"),
        (500, None, True, False, "", "unavailable"),
        (503, 20500, True, False, "20500", "unavailable"),
        (401, 20003, False, False, "20003", "credentials"),
        (401, None, False, False, "", "credentials"),
        (400, 99999, False, False, "99999", "Twilio error 99999"),
        (422, None, False, False, "", "refused the request (HTTP 422)"),
    ],
)
def test_errors_map_to_readable_verdicts(status, code, transient, opt_out, our_code, reason):
    with pytest.raises(CarrierError) as caught:
        failing(status, code).send(sms())
    err = caught.value
    assert (err.transient, err.opt_out, err.code) == (transient, opt_out, our_code)
    assert reason in err.message


def test_a_taken_number_is_number_unavailable():
    with pytest.raises(CarrierError) as caught:
        failing(400, 21422, "PhoneNumber not available").buy_number("+14155550100")
    assert caught.value.code == "number_unavailable"


def test_no_numbers_in_an_area_code_is_an_empty_list():
    assert failing(400, 21452).search_numbers("415") == []


def test_releasing_a_number_twilio_no_longer_has_is_harmless():
    failing(404, 20404).release_number("+14155550100", "PN" + "ab" * 16)


def test_a_send_refused_in_the_answer_is_an_error():
    import json

    body = json.dumps(
        {"sid": "SM" + "1" * 32, "status": "failed", "error_code": 21610, "error_message": "x"}
    )
    carrier = TwilioCarrier(
        TwilioCredentials(ACCOUNT_SID, AUTH_TOKEN), http_client=CannedClient(201, body)
    )
    with pytest.raises(CarrierError) as caught:
        carrier.send(sms())
    assert caught.value.opt_out and caught.value.code == "21610"


def test_a_bare_carrier_without_credentials_says_so(db):
    with pytest.raises(CarrierError, match="not set up"):
        TwilioCarrier().send(sms())
