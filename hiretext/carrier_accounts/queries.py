"""Reads: an organisation's carrier settings and, for the Twilio carrier, its credentials."""

import logging

from hiretext.accounts.models import Organization
from hiretext.carrier_accounts.models import CarrierAccount
from hiretext.carriers.twilio.credentials import ACCOUNT_SID, TwilioCredentials
from hiretext.lib.crypto import UndecryptableSecret, decrypt

log = logging.getLogger(__name__)

# More organisations than this on one Twilio account is a misconfiguration, not a use case.
MAX_ORGS_PER_ACCOUNT = 5


def carrier_account(org: Organization) -> CarrierAccount | None:
    return CarrierAccount.objects.filter(organization=org).first()


def carrier_slug(org: Organization) -> str:
    """The carrier this organisation chose, or "" for the platform default."""
    account = carrier_account(org)
    return account.carrier if account is not None else ""


def credentials_of(account: CarrierAccount) -> TwilioCredentials:
    """Decrypted Twilio credentials; UndecryptableSecret if the encryption key changed."""
    return TwilioCredentials(
        account_sid=account.account_sid,
        auth_token=decrypt(account.auth_token_encrypted),
        api_key_sid=account.api_key_sid,
        api_key_secret=decrypt(account.api_key_secret_encrypted),
        messaging_service_sid=account.messaging_service_sid,
    )


def twilio_credentials_for_org(org: Organization) -> TwilioCredentials | None:
    account = CarrierAccount.objects.filter(
        organization=org, carrier=CarrierAccount.Carrier.TWILIO
    ).first()
    if account is None or not account.account_sid or not account.auth_token_encrypted:
        return None
    return credentials_of(account)


def twilio_credentials_for_number(e164: str, *, active: bool = True) -> TwilioCredentials | None:
    """Credentials of the organisation holding `e164` (sends and releases by a bare carrier).

    `active=False` also finds the latest holder of a number being released.
    """
    from hiretext.numbers.models import PhoneNumber

    numbers = PhoneNumber.objects.filter(e164=e164, carrier="twilio")
    if active:
        numbers = numbers.filter(status=PhoneNumber.Status.ACTIVE)
    number = numbers.select_related("organization").order_by("-purchased_at", "-pk").first()
    return twilio_credentials_for_org(number.organization) if number is not None else None


def twilio_auth_tokens(account_sid: str) -> list[str]:
    """Auth tokens configured for a Twilio account (usually one): webhooks are signed with it."""
    if not ACCOUNT_SID.match(account_sid):
        return []
    tokens: list[str] = []
    rows = CarrierAccount.objects.filter(
        carrier=CarrierAccount.Carrier.TWILIO, account_sid=account_sid
    ).exclude(auth_token_encrypted="")[:MAX_ORGS_PER_ACCOUNT]
    for row in rows:
        try:
            tokens.append(decrypt(row.auth_token_encrypted))
        except UndecryptableSecret:
            log.warning(
                "Twilio auth token of organisation %s cannot be decrypted", row.organization_id
            )
    return tokens


def holder_account_sid(e164: str) -> str | None:
    """Twilio account SID of the organisation holding `e164` (now, else last).

    None: nobody holds it; "": held, but not through a Twilio account. Webhooks use it so
    that one Twilio account cannot speak for another organisation's number.
    """
    from hiretext.numbers.models import PhoneNumber

    number = (
        PhoneNumber.objects.filter(e164=e164)
        .select_related("organization__carrier_account")
        .order_by("status", "-purchased_at", "-pk")  # "active" sorts before "released"
        .first()
    )
    if number is None:
        return None
    account = getattr(number.organization, "carrier_account", None)
    if number.carrier != "twilio" or account is None:
        return ""
    return account.account_sid
