"""The Twilio carrier: numbers, sends and webhooks of an organisation's own Twilio account.

REST calls go through the official SDK (`twilio.rest.Client`) with an HTTP client that honours
HIRETEXT_TWILIO_API_BASE; webhooks are verified with the SDK's `RequestValidator` and the auth
token of the organisation(s) configured for the `AccountSid` in the form body. Vendor statuses
and error codes are mapped in `codes`; nothing Twilio-specific leaves this package.
"""

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import phonenumbers
import requests
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from twilio.base.exceptions import TwilioException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from hiretext.accounts.models import Organization
from hiretext.carriers.base import (
    AvailableNumber,
    BoughtNumber,
    Carrier,
    CarrierError,
    InboundSms,
    InvalidSignature,
    MalformedWebhook,
    OutboundSms,
    SendReceipt,
    StatusUpdate,
    is_reference,
)
from hiretext.carriers.twilio import codes
from hiretext.carriers.twilio.credentials import ACCOUNT_SID, TwilioCredentials
from hiretext.carriers.twilio.http import BaseUrlHttpClient
from hiretext.carriers.twilio.public import (
    REFERENCE,
    requested_url,
    status_callback_url,
    webhook_url,
)
from hiretext.lib.crypto import UndecryptableSecret

log = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SENDER = re.compile(r"^\+?\d{3,15}$")  # E.164 or a short code
MESSAGE_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")  # SM… (SMS), MM… (MMS)
AREA_CODE = re.compile(r"^[2-9]\d{2}$")
ERROR_CODE = re.compile(r"^\d{1,6}$")
MAX_BODY = 10_000  # Twilio caps bodies at 1,600 characters; anything far beyond is not Twilio
MAX_MEDIA = 10  # Twilio sends at most 10 media per message
MAX_SIGNATURE = 200
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _settings_api_base() -> str:
    from django.conf import settings

    return (getattr(settings, "HIRETEXT_TWILIO_API_BASE", "") or "").rstrip("/")


def _rest_failure(exc: Exception) -> tuple[int, str, str] | None:
    """(HTTP status, Twilio error code, message) of an SDK error answer; None for the rest.

    Creates and fetches raise TwilioRestException (or the RFC 9457 TwilioServiceException);
    list pages raise TwilioException("Unable to fetch page", response).
    """
    if isinstance(exc, TwilioException) and hasattr(exc, "status"):
        status = int(getattr(exc, "status", 0) or 0)
        code: Any = getattr(exc, "code", None)
        message = str(getattr(exc, "msg", "") or getattr(exc, "detail", "") or "")
    elif isinstance(exc, TwilioException) and len(exc.args) > 1 and hasattr(exc.args[1], "text"):
        response = exc.args[1]
        status = int(getattr(response, "status_code", 0) or 0)
        try:
            payload = json.loads(response.text)
        except (TypeError, ValueError):
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        code = payload.get("code")
        message = str(payload.get("message") or payload.get("detail") or "")
    else:
        return None
    # Without a Twilio code the SDK repeats the HTTP status as the code.
    code_text = str(code) if code not in (None, "") and str(code) != str(status) else ""
    return status, code_text, message


def carrier_error(exc: Exception) -> CarrierError:
    """Our CarrierError for whatever the SDK or the network raised."""
    if isinstance(exc, CarrierError):
        return exc
    failure = _rest_failure(exc)
    if failure is not None:
        status, code, detail = failure
        info = codes.error_info(code)
        transient = status == 429 or status >= 500 or (info is not None and info.transient)
        if info is not None:
            message = info.reason
        elif status == 401:
            message = "Twilio rejected the account SID or its credentials."
        elif transient:
            message = f"Twilio is unavailable right now (HTTP {status}); trying again."
        elif code:
            message = codes.reason_for(code, detail[:200])
        else:
            message = f"Twilio refused the request (HTTP {status})."
        return CarrierError(
            message,
            code=(info.code if info and info.code else code),
            transient=transient,
            opt_out=bool(info and info.opt_out),
        )
    if isinstance(exc, requests.RequestException):
        return CarrierError(f"Could not reach Twilio ({type(exc).__name__}).", transient=True)
    if isinstance(exc, UndecryptableSecret):
        return CarrierError(
            "The stored Twilio credentials cannot be decrypted (the encryption key changed); "
            "enter the auth token again on the Carrier page."
        )
    return CarrierError(f"Twilio call failed ({type(exc).__name__}).")


@contextmanager
def _calling_twilio() -> Iterator[None]:
    try:
        yield
    except (TwilioException, requests.RequestException, UndecryptableSecret) as exc:
        raise carrier_error(exc) from exc


def country_of(area_code: str) -> str:
    """Twilio searches per country: Canadian area codes are CA, the rest of +1 goes to US."""
    try:
        number = phonenumbers.parse(f"+1{area_code}2345678", None)
    except phonenumbers.NumberParseException:
        return "US"
    return "CA" if phonenumbers.region_code_for_number(number) == "CA" else "US"


class TwilioCarrier(Carrier):
    """Configured for one organisation (`credentials`), or bare for webhooks (verify, parse)."""

    slug: ClassVar[str] = "twilio"
    label: ClassVar[str] = "Twilio"

    def __init__(
        self,
        credentials: TwilioCredentials | None = None,
        *,
        api_base: str | None = None,
        http_client: BaseUrlHttpClient | None = None,
    ) -> None:
        self.credentials = credentials
        self.api_base = _settings_api_base() if api_base is None else api_base.rstrip("/")
        self._http_client = http_client

    @classmethod
    def for_org(cls, org: Organization) -> "TwilioCarrier":
        """The carrier with this organisation's stored credentials; CarrierError if none."""
        from hiretext.carrier_accounts.queries import twilio_credentials_for_org

        with _calling_twilio():
            credentials = twilio_credentials_for_org(org)
        if credentials is None:
            raise CarrierError("Twilio is not set up for this organisation (see the Carrier page).")
        return cls(credentials)

    # REST -----------------------------------------------------------------------------

    def _creds(self, from_e164: str = "", *, active: bool = True) -> TwilioCredentials:
        """Own credentials, or (bare carrier) those of the organisation holding the number."""
        if self.credentials is None and from_e164:
            from hiretext.carrier_accounts.queries import twilio_credentials_for_number

            with _calling_twilio():
                self.credentials = twilio_credentials_for_number(from_e164, active=active)
        if self.credentials is None:
            raise CarrierError("Twilio is not set up for this organisation (see the Carrier page).")
        return self.credentials

    def client(self, from_e164: str = "", *, active: bool = True) -> Client:
        creds = self._creds(from_e164, active=active)
        if self._http_client is None:  # one connection pool per carrier instance
            self._http_client = BaseUrlHttpClient(self.api_base)
        http_client = self._http_client
        if creds.api_key_sid and creds.api_key_secret:
            return Client(
                creds.api_key_sid,
                creds.api_key_secret,
                creds.account_sid,
                http_client=http_client,
            )
        return Client(creds.account_sid, creds.auth_token, http_client=http_client)

    def check_connection(self) -> str:
        """Fetch the account: its friendly name if usable; CarrierError saying why not."""
        creds = self._creds()
        with _calling_twilio():
            account = self.client().api.v2010.accounts(creds.account_sid).fetch()
        if account.status != "active":
            raise CarrierError(f"The Twilio account is {account.status}, not active.")
        return str(account.friendly_name or creds.account_sid)

    def search_numbers(self, area_code: str, limit: int = 20) -> list[AvailableNumber]:
        """SMS-capable local US/Canada numbers in the area code (none for a malformed one)."""
        if not AREA_CODE.match(area_code or "") or limit <= 0:
            return []
        try:
            with _calling_twilio():
                found = (
                    self.client()
                    .available_phone_numbers(country_of(area_code))
                    .local.list(area_code=int(area_code), sms_enabled=True, limit=min(limit, 50))
                )
        except CarrierError as exc:
            if exc.code == "21452":  # no numbers in that area code
                return []
            raise
        numbers = []
        for item in found:
            e164 = str(item.phone_number or "")
            if E164.match(e164):
                where = ", ".join(p for p in (item.locality, item.region) if p)
                numbers.append(AvailableNumber(e164=e164, locality=where))
        return numbers

    def buy_number(self, e164: str) -> BoughtNumber:
        """Buy `e164` with our webhooks set on it; number_unavailable if someone was faster."""
        if not E164.match(e164 or ""):
            raise CarrierError(f"{e164[:20]} is not a phone number.", code="number_unavailable")
        inbound, status = webhook_url("inbound"), webhook_url("status")
        with _calling_twilio():
            bought = self.client().incoming_phone_numbers.create(
                phone_number=e164,
                sms_url=inbound,
                sms_method="POST",
                status_callback=status,
                status_callback_method="POST",
            )
        # We asked for exactly this number; Twilio echoes it (a mock may not).
        return BoughtNumber(e164=e164, carrier_id=str(bought.sid))

    def release_number(self, e164: str, carrier_id: str) -> None:
        """Give the number back to Twilio; releasing an already released number is harmless."""
        try:
            with _calling_twilio():
                client = self.client(e164, active=False)
                if carrier_id.startswith("PN"):
                    client.incoming_phone_numbers(carrier_id).delete()
                else:
                    for number in client.incoming_phone_numbers.list(phone_number=e164, limit=5):
                        if number.phone_number == e164:
                            number.delete()
        except CarrierError as exc:
            if exc.code != "20404":
                raise

    def send(self, sms: OutboundSms) -> SendReceipt:
        """Hand the message to Twilio, asking for delivery reports at our status webhook.

        Our webhook's URL carries our message id (`?reference=`): Twilio signs the URL with
        its query, and a report may arrive before this call's answer is recorded.
        """
        creds = self._creds(sms.from_e164)
        callback = sms.status_callback_url
        if not callback.startswith(("https://", "http://")):
            callback = status_callback_url(sms.message_id)
        params: dict[str, Any] = {
            "to": sms.to_e164,
            "from_": sms.from_e164,
            "body": sms.body,
            "status_callback": callback,
        }
        if creds.messaging_service_sid:
            params["messaging_service_sid"] = creds.messaging_service_sid
        if sms.media_urls:
            params["media_url"] = list(sms.media_urls)
        with _calling_twilio():
            message = self.client().messages.create(**params)
        status = codes.status_for(str(message.status or "")) or "sending"
        if status in ("failed", "undelivered"):
            info = codes.error_info(message.error_code)
            raise CarrierError(
                codes.reason_for(message.error_code, str(message.error_message or ""))
                or "Twilio refused the message.",
                code=str(message.error_code or ""),
                opt_out=bool(info and info.opt_out),
            )
        return SendReceipt(external_id=str(message.sid), status=status)

    # Webhooks -------------------------------------------------------------------------

    @staticmethod
    def _form(request: HttpRequest) -> QueryDict:
        if request.method != "POST" or request.content_type != "application/x-www-form-urlencoded":
            raise InvalidSignature("Twilio posts form-encoded webhooks.")
        try:
            return request.POST
        except (RequestDataTooBig, TooManyFieldsSent) as exc:
            raise MalformedWebhook("The webhook body is too large.") from exc

    def _tokens(self, account_sid: str) -> list[str]:
        if self.credentials is not None:
            return (
                [self.credentials.auth_token] if self.credentials.account_sid == account_sid else []
            )
        from hiretext.carrier_accounts.queries import twilio_auth_tokens

        return twilio_auth_tokens(account_sid)

    def verify(self, request: HttpRequest) -> None:
        """X-Twilio-Signature must match the requested public URL and the form, signed with the
        auth token of an organisation configured for the body's AccountSid."""
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or len(signature) > MAX_SIGNATURE:
            raise InvalidSignature("Missing or malformed X-Twilio-Signature.")
        form = self._form(request)
        account_sid = form.get("AccountSid", "")
        if not ACCOUNT_SID.match(account_sid):
            raise InvalidSignature("No Twilio AccountSid in the webhook.")
        url = requested_url(request)
        if not any(
            token and RequestValidator(token).validate(url, form, signature)
            for token in self._tokens(account_sid)
        ):
            raise InvalidSignature("The Twilio signature does not match.")
        self._check_number_is_on(account_sid, request, form)

    @staticmethod
    def _check_number_is_on(account_sid: str, request: HttpRequest, form: QueryDict) -> None:
        """Our number in the webhook (To inbound, From in status reports) must be held
        through this Twilio account: one account cannot speak for another's numbers."""
        from hiretext.carrier_accounts.queries import holder_account_sid

        is_status = request.path.rstrip("/").endswith("/status")
        ours = form.get("From" if is_status else "To", "").strip()
        if not E164.match(ours):
            return  # parse refuses it as malformed
        holder = holder_account_sid(ours)
        if holder is not None and holder != account_sid:
            raise InvalidSignature("That number is not on this Twilio account.")

    def parse_inbound(self, request: HttpRequest) -> list[InboundSms]:
        form = self._form(request)
        sid = _field(form, "MessageSid", MESSAGE_SID)
        to = _field(form, "To", E164)
        sender = _field(form, "From", SENDER)
        body = form.get("Body", "")
        if len(body) > MAX_BODY:
            raise MalformedWebhook("The message body is too long.")
        media = tuple(
            url
            for i in range(MAX_MEDIA)
            if (url := form.get(f"MediaUrl{i}", "")).startswith(("https://", "http://"))
            and len(url) <= 2000
        )
        return [
            InboundSms(
                external_id=sid,
                from_e164=sender,
                to_e164=to,
                body=body,
                occurred_at=timezone.now(),
                media_urls=media,
                account_ref=form.get("AccountSid", ""),
                raw=_raw(form),
            )
        ]

    def parse_status(self, request: HttpRequest) -> list[StatusUpdate]:
        form = self._form(request)
        sid = _field(form, "MessageSid", MESSAGE_SID)
        twilio_status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        if not twilio_status or len(twilio_status) > 40:
            raise MalformedWebhook("MessageStatus is missing.")
        status = codes.status_for(twilio_status)
        if status is None:
            # Inbound-side or new statuses: acknowledged, nothing to move forward.
            log.info("Ignoring Twilio status %r for %s", twilio_status[:40], sid)
            return []
        error_code = form.get("ErrorCode", "").strip()
        if error_code and not ERROR_CODE.match(error_code):
            raise MalformedWebhook("ErrorCode is not a number.")
        reference = request.GET.get(REFERENCE, "")
        if reference and not is_reference(reference):
            raise MalformedWebhook("The reference is not one of our message ids.")
        failed = status in ("failed", "undelivered")
        info = codes.error_info(error_code) if failed else None
        reason = ""
        if failed:
            reason = codes.reason_for(error_code) or (
                "Canceled before sending." if twilio_status == "canceled" else ""
            )
        return [
            StatusUpdate(
                external_id=sid,
                status=status,
                occurred_at=timezone.now(),
                error_code=error_code if failed else "",
                error_message=reason,
                opt_out=bool(info and info.opt_out),
                account_ref=form.get("AccountSid", ""),
                reference=reference,
                raw=_raw(form),
            )
        ]

    def webhook_response(self, kind: str) -> HttpResponse:
        """Empty TwiML for inbound messages (no auto-reply); an empty 200 for status reports."""
        if kind == "inbound":
            return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")
        return HttpResponse(b"", content_type="text/plain")


def _field(form: QueryDict, name: str, pattern: re.Pattern[str]) -> str:
    value = form.get(name, "").strip()
    if not pattern.match(value):
        raise MalformedWebhook(f"{name} is missing or malformed.")
    return value


def _raw(form: QueryDict) -> dict[str, Any]:
    """The payload as received (first value of each field), bounded."""
    return {k[:64]: form.get(k, "")[:2000] for k in list(form.keys())[:64]}
