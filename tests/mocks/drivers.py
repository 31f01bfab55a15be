"""Drive a carrier from the phone's side, the same way for every carrier (pytest plugin).

`carrier_driver` is parametrised over the simulator and Twilio (against the Prism mock):
a test written with it runs the same SMS journey through both. A driver

- `configure(api)`: sets the organisation up for the carrier through PUT /api/v1/carrier;
- `text_in(client, sender, to, body, message_id="")`: the phone texts our number, through
  the carrier's signed webhook; returns (carrier message id, HTTP status, response);
- `received(phone)`: the bodies our app sent to that phone, oldest first;
- `fail_next(phone, status, error_code)`: texts to that phone end `undelivered`/`failed`;
- `report(client)`: the carrier's delivery reports for what was sent since the last call
  (the simulator's follow each send by themselves; Twilio's are posted here, signed);
- `forge(client, kind, payload)`: a webhook with a wrong signature; returns the response.
"""

import hashlib
import hmac
import json
import secrets

import pytest

from tests.mocks.twilio_api import ACCOUNT_SID, AUTH_TOKEN, TwilioAccount


class SimulatorDriver:
    slug = "simulator"

    def configure(self, api) -> None:
        """The simulator is the default carrier: nothing to set up."""

    def text_in(self, client, sender, to, body, message_id=""):
        from hiretext.carriers.simulator import phones

        message_id, status = phones.phone_sends(sender, to, body, message_id)
        return message_id, status, None

    def received(self, phone):
        from hiretext.carriers.simulator.phone_models import SimulatorPhoneMessage

        rows = SimulatorPhoneMessage.objects.filter(
            phone=phone, direction=SimulatorPhoneMessage.Direction.TO_PHONE
        ).order_by("id")
        return [row.body for row in rows]

    def fail_next(self, phone, status, error_code=""):
        from hiretext.carriers.simulator import phones

        phones.set_failure(phone, status, error_code)

    def report(self, client) -> None:
        """Each send's callback follows on commit (the simulator's own task)."""

    def forge(self, client, kind, payload):
        raw = json.dumps(payload).encode()
        return client.post(
            f"/webhooks/simulator/{kind}",
            data=raw,
            content_type="application/json",
            headers={"X-Simulator-Signature": hmac.new(b"x", raw, hashlib.sha256).hexdigest()},
        )


class TwilioDriver:
    slug = "twilio"

    def __init__(self, mock):
        self.mock = mock
        self.account = TwilioAccount(org=None, mock=mock)
        self.failures: dict[str, tuple[str, str]] = {}
        self.reported = 0

    def configure(self, api) -> None:
        res = api.put(
            "/carrier",
            json={"carrier": "twilio", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        )
        assert res.status_code == 200, res.content

    def _sends(self):
        return [c for c in self.mock.called("POST", "/Messages.json") if c.status == 201]

    def text_in(self, client, sender, to, body, message_id=""):
        message_id = message_id or "SM" + secrets.token_hex(16)
        form = {
            "MessageSid": message_id,
            "SmsMessageSid": message_id,
            "SmsSid": message_id,
            "From": sender,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        response = self.account.post(client, "inbound", form)
        return message_id, response.status_code, response

    def received(self, phone):
        return [c.data["Body"] for c in self._sends() if c.data.get("To") == phone]

    def fail_next(self, phone, status, error_code=""):
        self.failures[phone] = (status, error_code)

    def report(self, client) -> None:
        """Twilio's status callbacks: `sent`, then `delivered` or the failure set for the phone."""
        sends = self._sends()
        for call in sends[self.reported :]:
            sid = json.loads(call.body)["sid"]
            to, sender = call.data["To"], call.data["From"]
            final, code = self.failures.get(to, ("delivered", ""))
            for status in ("sent", final):
                form = {
                    "MessageSid": sid,
                    "SmsSid": sid,
                    "MessageStatus": status,
                    "SmsStatus": status,
                    "From": sender,
                    "To": to,
                    "ApiVersion": "2010-04-01",
                }
                if code and status == final:
                    form["ErrorCode"] = code
                res = self.account.post(client, "status", form)
                assert res.status_code == 200, res.content
        self.reported = len(sends)

    def forge(self, client, kind, payload):
        return self.account.post(client, kind, payload, signature="Zm9yZ2VkIHNpZ25hdHVyZQ==")


@pytest.fixture(params=["simulator", "twilio"])
def carrier_driver(request):
    """The same phone-side controls for each carrier; Twilio runs against the Prism mock."""
    if request.param == "twilio":
        return TwilioDriver(request.getfixturevalue("twilio_settings"))
    return SimulatorDriver()
