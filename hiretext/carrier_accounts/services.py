"""Changing an organisation's carrier settings and testing them against the carrier."""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from hiretext.accounts.models import Organization, User
from hiretext.carrier_accounts.models import CarrierAccount
from hiretext.carriers.base import CarrierError
from hiretext.carriers.twilio.credentials import (
    ACCOUNT_SID,
    API_KEY_SID,
    MESSAGING_SERVICE_SID,
    SECRET,
)
from hiretext.lib.crypto import encrypt
from hiretext.lib.errors import Conflict, PermissionDenied, ValidationFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CarrierSettings:
    """What an administrator submits. Empty secrets mean "keep the stored one"."""

    carrier: str
    account_sid: str = ""
    auth_token: str = field(default="", repr=False)
    api_key_sid: str = ""
    api_key_secret: str = field(default="", repr=False)
    messaging_service_sid: str = ""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def _sid(value: str) -> str:
    """Twilio SIDs are two capitals and 32 lowercase hex digits; accept any case."""
    value = value.strip()
    return value[:2].upper() + value[2:].lower()


def _require_manager(actor: User, org: Organization) -> None:
    if actor.organization_id != org.pk or not actor.has_perm("accounts.manage_text_messaging"):
        raise PermissionDenied()


def _validate(new: CarrierSettings, current: CarrierAccount | None) -> dict[str, str]:
    """Normalised Twilio fields, or ValidationFailed naming each wrong field."""
    errors: dict[str, list[str]] = {}
    account_sid = _sid(new.account_sid)
    api_key_sid = _sid(new.api_key_sid) if new.api_key_sid.strip() else ""
    service_sid = _sid(new.messaging_service_sid) if new.messaging_service_sid.strip() else ""
    token, key_secret = new.auth_token.strip(), new.api_key_secret.strip()
    if not ACCOUNT_SID.match(account_sid):
        errors["account_sid"] = ["An account SID is AC followed by 32 hexadecimal digits."]
    if token and not SECRET.match(token):
        errors["auth_token"] = ["An auth token is 32 letters and digits."]
    elif not token and not (current and current.auth_token_encrypted):
        errors["auth_token"] = ["Enter the auth token: it verifies Twilio's webhooks."]
    if api_key_sid and not API_KEY_SID.match(api_key_sid):
        errors["api_key_sid"] = ["An API key SID is SK followed by 32 hexadecimal digits."]
    if key_secret and not SECRET.match(key_secret):
        errors["api_key_secret"] = ["An API key secret is 32 letters and digits."]
    elif key_secret and not api_key_sid:
        errors["api_key_sid"] = ["Enter the API key SID that goes with the secret."]
    elif api_key_sid and not key_secret:
        stored = current is not None and current.api_key_secret_encrypted != ""
        if not (stored and current is not None and current.api_key_sid == api_key_sid):
            errors["api_key_secret"] = ["Enter the secret of this API key."]
    if service_sid and not MESSAGING_SERVICE_SID.match(service_sid):
        errors["messaging_service_sid"] = [
            "A messaging service SID is MG followed by 32 hexadecimal digits."
        ]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, errors)
    return {
        "account_sid": account_sid,
        "api_key_sid": api_key_sid,
        "messaging_service_sid": service_sid,
        "auth_token": token,
        "api_key_secret": key_secret,
    }


def _refuse_switch_with_numbers(
    org: Organization, account: CarrierAccount, new: dict[str, str]
) -> None:
    """Numbers bought through one carrier account can neither send nor be released by another."""
    from hiretext.numbers.models import PhoneNumber

    current = account.carrier or CarrierAccount.Carrier.SIMULATOR
    moving = new["carrier"] != current or (
        current == CarrierAccount.Carrier.TWILIO
        and account.account_sid
        and new.get("account_sid", account.account_sid) != account.account_sid
    )
    if not moving:
        return
    held = PhoneNumber.objects.filter(organization=org, status=PhoneNumber.Status.ACTIVE).count()
    if held:
        raise Conflict(
            "carrier_has_numbers",
            f"The organisation still has {held} active number{'s' if held != 1 else ''} on the "
            "current carrier account. Release them before switching.",
        )


def configure_carrier(org: Organization, actor: User, new: CarrierSettings) -> CarrierAccount:
    """Store the organisation's carrier choice; secrets are encrypted, never logged."""
    _require_manager(actor, org)
    if new.carrier not in CarrierAccount.Carrier.values:
        raise ValidationFailed(
            "Choose the simulator or Twilio.", {"carrier": ["Choose the simulator or Twilio."]}
        )
    with transaction.atomic():
        account, _ = CarrierAccount.objects.select_for_update().get_or_create(organization=org)
        if new.carrier == CarrierAccount.Carrier.SIMULATOR:
            _refuse_switch_with_numbers(org, account, {"carrier": new.carrier})
            account.carrier = new.carrier
        else:
            fields = _validate(new, account)
            _refuse_switch_with_numbers(org, account, {"carrier": new.carrier, **fields})
            credentials_changed = (
                fields["account_sid"] != account.account_sid
                or bool(fields["auth_token"])
                or fields["api_key_sid"] != account.api_key_sid
                or bool(fields["api_key_secret"])
            )
            account.carrier = new.carrier
            account.account_sid = fields["account_sid"]
            if fields["auth_token"]:
                account.auth_token_encrypted = encrypt(fields["auth_token"])
            if fields["api_key_sid"] != account.api_key_sid and not fields["api_key_secret"]:
                account.api_key_secret_encrypted = ""
            account.api_key_sid = fields["api_key_sid"]
            if fields["api_key_secret"]:
                account.api_key_secret_encrypted = encrypt(fields["api_key_secret"])
            account.messaging_service_sid = fields["messaging_service_sid"]
            if credentials_changed:
                account.checked_at, account.check_ok, account.check_message = None, None, ""
        account.updated_by = actor
        account.save()
    log.info(
        "Carrier of organisation %s set to %s (account %s) by user %s",
        org.pk,
        account.carrier,
        account.account_sid or "-",
        actor.pk,
    )
    return account


def check_connection(org: Organization, actor: User) -> CheckResult:
    """Ask the configured carrier whether the stored credentials work, and remember the answer."""
    _require_manager(actor, org)
    account = CarrierAccount.objects.filter(organization=org).first()
    if account is None or account.carrier != CarrierAccount.Carrier.TWILIO:
        return CheckResult(True, "The built-in simulator needs no connection: it is always ready.")
    from hiretext.carriers.twilio.carrier import TwilioCarrier
    from hiretext.carriers.twilio.public import public_base

    try:
        name = TwilioCarrier.for_org(org).check_connection()
    except CarrierError as exc:
        result = CheckResult(False, f"Twilio connection failed: {exc.message}")
    else:
        message = f"Connected to the Twilio account “{name[:80]}”."
        if not public_base():
            message += (
                " HIRETEXT_PUBLIC_URL is not set, so numbers cannot be bought and Twilio cannot "
                "deliver replies yet."
            )
        result = CheckResult(True, message)
    CarrierAccount.objects.filter(pk=account.pk).update(
        checked_at=timezone.now(), check_ok=result.ok, check_message=result.message[:300]
    )
    log.info(
        "Twilio connection check for organisation %s: %s", org.pk, "ok" if result.ok else "failed"
    )
    return result
