"""The organisation's carrier settings; secrets are write-only (GET tells whether one is set)."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema

from hiretext.api.core import current_org, require_perm
from hiretext.api.schemas import Strict, Text100
from hiretext.carrier_accounts import queries, services
from hiretext.carrier_accounts.models import CarrierAccount

router = Router(tags=["carrier"])
PERM = "manage_text_messaging"


class CarrierIn(Strict):
    carrier: Literal["simulator", "twilio"]
    account_sid: Text100 = ""
    auth_token: Text100 | None = None  # omitted or empty: keep the stored token
    api_key_sid: Text100 = ""
    api_key_secret: Text100 | None = None
    messaging_service_sid: Text100 | None = None


class CarrierOut(Schema):
    carrier: str
    account_sid: str
    auth_token_set: bool
    api_key_sid: str
    api_key_secret_set: bool
    messaging_service_sid: str | None
    inbound_webhook_url: str
    status_webhook_url: str
    checked_at: datetime | None
    check_ok: bool | None
    check_message: str


class CheckOut(Schema):
    ok: bool
    message: str


def carrier_out(account: CarrierAccount | None) -> dict[str, Any]:
    from hiretext.carriers.twilio.public import public_base

    base = public_base()
    return {
        "carrier": account.carrier if account else CarrierAccount.Carrier.SIMULATOR.value,
        "account_sid": account.account_sid if account else "",
        "auth_token_set": bool(account and account.auth_token_encrypted),
        "api_key_sid": account.api_key_sid if account else "",
        "api_key_secret_set": bool(account and account.api_key_secret_encrypted),
        "messaging_service_sid": (account.messaging_service_sid or None) if account else None,
        "inbound_webhook_url": f"{base}/webhooks/twilio/inbound" if base else "",
        "status_webhook_url": f"{base}/webhooks/twilio/status" if base else "",
        "checked_at": account.checked_at if account else None,
        "check_ok": account.check_ok if account else None,
        "check_message": account.check_message if account else "",
    }


@router.get("/carrier", response=CarrierOut)
def get_carrier(request: HttpRequest) -> dict[str, Any]:
    require_perm(request, PERM)
    return carrier_out(queries.carrier_account(current_org(request)))


@router.put("/carrier", response=CarrierOut)
def put_carrier(request: HttpRequest, payload: CarrierIn) -> dict[str, Any]:
    user = require_perm(request, PERM)
    account = services.configure_carrier(
        current_org(request),
        user,
        services.CarrierSettings(
            carrier=payload.carrier,
            account_sid=payload.account_sid,
            auth_token=payload.auth_token or "",
            api_key_sid=payload.api_key_sid,
            api_key_secret=payload.api_key_secret or "",
            messaging_service_sid=payload.messaging_service_sid or "",
        ),
    )
    return carrier_out(account)


@router.post("/carrier/check", response=CheckOut)
def check_carrier(request: HttpRequest) -> dict[str, Any]:
    user = require_perm(request, PERM)
    result = services.check_connection(current_org(request), user)
    return {"ok": result.ok, "message": result.message}
