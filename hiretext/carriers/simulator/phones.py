"""The simulator's phones: they receive our texts, answer, and report delivery, signed.

Webhooks are JSON with the header `X-Simulator-Signature`: the hex HMAC-SHA256 of the raw
body with `HIRETEXT_SIMULATOR_SECRET`. The simulator posts them to the app in-process
(a request built from the raw bytes, through the URL resolver to the webhook view), so the
signature and parsing path is the one a real carrier's request takes, with no network.
"""

import hashlib
import hmac
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import resolve, reverse

from hiretext.carriers.base import (
    MAX_REFERENCE,
    CarrierError,
    InboundSms,
    InvalidSignature,
    MalformedWebhook,
    OutboundSms,
    SendReceipt,
    StatusUpdate,
    is_reference,
)
from hiretext.carriers.simulator.phone_models import SimulatorPhone, SimulatorPhoneMessage

SLUG = "simulator"
SIGNATURE_HEADER = "X-Simulator-Signature"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_BODY = 10_000
STATUSES = {"sending", "sent", "delivered", "undelivered", "failed"}
FAIL_STATUSES = {"undelivered", "failed"}
OPT_OUT_CODE = "21610"
UNREACHABLE = "unreachable"  # a phone whose carrier is down: sends fail transiently


def secret() -> bytes:
    configured = getattr(settings, "HIRETEXT_SIMULATOR_SECRET", "")
    if configured:
        return str(configured).encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"hiretext-simulator", hashlib.sha256).digest()


def sign(raw: bytes) -> str:
    # The one-shot digest: an HMAC object built for each webhook cost three times as much.
    return hmac.digest(secret(), raw, "sha256").hex()


def new_id() -> str:
    return "SIM" + secrets.token_hex(16)


# --- the Carrier interface (SimulatorCarrier delegates here) -------------------------------


def send(sms: OutboundSms) -> SendReceipt:
    """Deliver to the simulated phone; a delivery callback follows after commit."""
    behaviour = SimulatorPhone.objects.filter(e164=sms.to_e164).first()
    if behaviour is not None and behaviour.fail_status == UNREACHABLE:
        raise CarrierError("The recipient's network is unreachable.", code="30003", transient=True)
    if behaviour is not None and behaviour.error_code == OPT_OUT_CODE:
        raise CarrierError(
            "Attempt to send to unsubscribed recipient", code=OPT_OUT_CODE, opt_out=True
        )
    if not E164.match(sms.to_e164):
        raise CarrierError(f"{sms.to_e164[:20]} is not a valid phone number.", code="21211")
    stored = SimulatorPhoneMessage.objects.create(
        phone=sms.to_e164,
        number=sms.from_e164,
        direction=SimulatorPhoneMessage.Direction.TO_PHONE,
        body=sms.body,
        external_id=new_id(),
        status="sent",
    )
    reference = str(sms.message_id)
    transaction.on_commit(lambda: _queue_callback(stored.external_id, reference))
    return SendReceipt(external_id=stored.external_id, status="sent")


_SIGNATURE_META = "HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_")


def verify(request: HttpRequest) -> None:
    # META, not request.headers: building the headers mapping cost more than the HMAC.
    given = request.META.get(_SIGNATURE_META, "")
    if not given or not hmac.compare_digest(given.strip().lower(), sign(request.body)):
        raise InvalidSignature()


def _payload(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedWebhook("The body is not JSON.") from exc
    if not isinstance(data, dict):
        raise MalformedWebhook("The body must be a JSON object.")
    return data


def _text(data: dict[str, Any], key: str, *, required: bool = True, limit: int = 64) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise MalformedWebhook(f"“{key}” is missing or invalid.")
    return value


def parse_inbound(request: HttpRequest) -> list[InboundSms]:
    data = _payload(request)
    sender, to = _text(data, "from"), _text(data, "to")
    if not E164.match(sender) or not E164.match(to):
        raise MalformedWebhook("“from” and “to” must be E.164 numbers.")
    return [
        InboundSms(
            external_id=_text(data, "message_id"),
            from_e164=sender,
            to_e164=to,
            body=_text(data, "body", required=False, limit=MAX_BODY),
            occurred_at=datetime.now(UTC),
            raw=data,
        )
    ]


def parse_status(request: HttpRequest) -> list[StatusUpdate]:
    data = _payload(request)
    status = _text(data, "status", limit=20)
    if status not in STATUSES:
        raise MalformedWebhook(f"Unknown status “{status[:20]}”.")
    code = _text(data, "error_code", required=False, limit=30)
    reference = _text(data, "reference", required=False, limit=MAX_REFERENCE)
    if reference and not is_reference(reference):
        raise MalformedWebhook("“reference” must be our message id (digits).")
    return [
        StatusUpdate(
            external_id=_text(data, "message_id"),
            status=status,
            occurred_at=datetime.now(UTC),
            error_code=code,
            error_message=_text(data, "error_message", required=False, limit=300),
            opt_out=code == OPT_OUT_CODE,
            reference=reference,
            raw=data,
        )
    ]


# --- posting to the app, as a carrier would ------------------------------------------------


def post_webhook(kind: str, payload: dict[str, Any]) -> HttpResponse:
    """Sign `payload` and hand it to the app's webhook view for `kind` (inbound | status)."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    path = reverse(f"webhooks:{kind}", kwargs={"carrier": SLUG})
    request = RequestFactory().post(
        path, data=raw, content_type="application/json", headers={SIGNATURE_HEADER: sign(raw)}
    )
    match = resolve(path)
    response: HttpResponse = match.func(request, *match.args, **match.kwargs)
    return response


def _queue_callback(external_id: str, reference: str) -> None:
    from hiretext.carriers.simulator.tasks import post_delivery_status

    post_delivery_status.enqueue(external_id, reference)


def deliver_status(external_id: str, reference: str = "") -> HttpResponse | None:
    """The phone reports delivery (or the failure it was set to) for one of our texts.

    `reference` is the sender's id of the text, echoed as a real carrier does: the report
    may reach the app before the send's receipt has recorded `external_id`.
    """
    stored = SimulatorPhoneMessage.objects.filter(
        external_id=external_id, direction=SimulatorPhoneMessage.Direction.TO_PHONE
    ).first()
    if stored is None:
        return None
    behaviour = SimulatorPhone.objects.filter(e164=stored.phone).first()
    status, code = "delivered", ""
    if behaviour is not None and behaviour.fail_status in FAIL_STATUSES:
        status, code = behaviour.fail_status, behaviour.error_code
    SimulatorPhoneMessage.objects.filter(pk=stored.pk).update(status=status, error_code=code)
    payload = {"message_id": external_id, "status": status}
    if reference:
        payload["reference"] = reference
    if code:
        payload["error_code"] = code
    return post_webhook("status", payload)


def phone_sends(sender: str, to: str, body: str, message_id: str = "") -> tuple[str, int]:
    """The phone `sender` texts our number `to`; a known `message_id` replays that text.

    Returns the message id and the app's webhook answer (HTTP status).
    """
    if message_id:
        earlier = SimulatorPhoneMessage.objects.filter(
            external_id=message_id, direction=SimulatorPhoneMessage.Direction.FROM_PHONE
        ).first()
        if earlier is not None:
            sender, to, body = earlier.phone, earlier.number, earlier.body
        else:
            SimulatorPhoneMessage.objects.create(
                phone=sender, number=to, direction="from_phone", body=body, external_id=message_id
            )
    else:
        message_id = new_id()
        SimulatorPhoneMessage.objects.create(
            phone=sender, number=to, direction="from_phone", body=body, external_id=message_id
        )
    response = post_webhook(
        "inbound", {"message_id": message_id, "from": sender, "to": to, "body": body}
    )
    return message_id, response.status_code


def set_failure(e164: str, status: str, error_code: str = "") -> SimulatorPhone | None:
    """Make texts to `e164` fail (`undelivered`, `failed`, `unreachable`), or "ok" to reset."""
    if status in ("", "ok", "delivered"):
        SimulatorPhone.objects.filter(e164=e164).delete()
        return None
    phone, _ = SimulatorPhone.objects.update_or_create(
        e164=e164, defaults={"fail_status": status, "error_code": error_code}
    )
    return phone
