"""Inbound e-mail webhooks: anymail's views for real providers, and the simulator's.

Each provider's request is checked as anymail checks it (Mailgun: HMAC signature with
MAILGUN_WEBHOOK_SIGNING_KEY; Postmark: HTTP basic auth with ANYMAIL_WEBHOOK_SECRET; the
simulator: HMAC-SHA256 of the raw body with HIRETEXT_SIMULATOR_SECRET), then anymail's
`inbound` signal reaches `receivers.on_inbound`. Around anymail's view this module adds
what our carrier webhooks promise: 404 for a provider that is not configured, 403 for a
bad signature, 413 beyond HIRETEXT_INBOUND_EMAIL_MAX_BYTES, 400 for a malformed payload,
never a 500 for hostile input.
"""

import email.errors
import hmac
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, EventType, inbound
from anymail.utils import get_anymail_setting
from anymail.webhooks.base import AnymailCoreWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from hiretext.carriers.simulator import phones

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Simulator-Signature"
EVENT_ID_HEADER = "X-Simulator-Event-Id"
RAW_BODY_TYPES = ("application/json", "message/rfc822")
MALFORMED = (
    AnymailConfigurationError,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    LookupError,
    email.errors.MessageError,
    MultiPartParserError,
    RecursionError,
)


class SimulatorInboundWebhookView(AnymailCoreWebhookView):
    """The simulator's mailboxes post replies here: raw MIME, signed like its texts."""

    esp_name = "Simulator"
    signal = inbound

    def validate_request(self, request: HttpRequest) -> None:
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given or not hmac.compare_digest(given.strip().lower(), phones.sign(request.body)):
            raise AnymailWebhookValidationFailure("Simulator webhook with a wrong signature")

    def parse_events(self, request: HttpRequest) -> list[AnymailInboundEvent]:
        if not request.body.strip():
            raise ValueError("An empty e-mail.")
        message = AnymailInboundMessage.parse_raw_mime_bytes(request.body)
        return [
            AnymailInboundEvent(
                event_type=EventType.INBOUND,
                timestamp=datetime.now(UTC),
                event_id=request.headers.get(EVENT_ID_HEADER, "")[:100] or None,
                esp_event=request,
                message=message,
            )
        ]


def _mailgun_configured() -> bool:
    key = get_anymail_setting("webhook_signing_key", esp_name="Mailgun", default=None)
    api_key = get_anymail_setting("api_key", esp_name="Mailgun", default=None, allow_bare=True)
    return bool(key or api_key)


def _basic_auth_configured() -> bool:
    return bool(get_anymail_setting("webhook_secret", default=None))


def _simulator_enabled() -> bool:
    return bool(getattr(settings, "HIRETEXT_SIMULATOR_ENABLED", True))


PROVIDERS: dict[str, tuple[type[AnymailCoreWebhookView], Callable[[], bool]]] = {
    "mailgun": (MailgunInboundWebhookView, _mailgun_configured),
    "postmark": (PostmarkInboundWebhookView, _basic_auth_configured),
    "simulator": (SimulatorInboundWebhookView, _simulator_enabled),
}


def _refusal(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def max_bytes() -> int:
    return int(getattr(settings, "HIRETEXT_INBOUND_EMAIL_MAX_BYTES", 25_000_000))


class TooLarge(Exception):  # noqa: N818 - reads as a verdict
    pass


def _read_large_body(request: HttpRequest) -> None:
    """Read a JSON or raw-MIME body beyond DATA_UPLOAD_MAX_MEMORY_SIZE, up to our own cap.

    E-mails with attachments are often larger than the 1 MB every other view accepts;
    multipart posts (Mailgun) stream their files to disk and need no help.
    """
    limit = max_bytes()
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > limit:
        raise TooLarge
    small = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request.content_type in RAW_BODY_TYPES and small is not None and length > small:
        body = request.read(limit + 1)
        if len(body) > limit:
            raise TooLarge
        request._body = body  # what HttpRequest.body caches
        request._stream = BytesIO(body)


@csrf_exempt
@require_http_methods(["POST", "HEAD"])
def inbound_email(request: HttpRequest, provider: str) -> HttpResponse:
    """`POST /webhooks/email/<provider>/inbound`: one inbound e-mail from a provider."""
    entry = PROVIDERS.get(provider)
    if entry is None or not entry[1]():
        return _refusal(404, "not_found", "No such e-mail provider is configured.")
    view_class, _ = entry
    try:
        _read_large_body(request)
        view: Any = view_class.as_view()
        response: HttpResponse = view(request)
    except AnymailWebhookValidationFailure as exc:
        log.warning("Inbound e-mail webhook (%s) refused: %s", provider, exc)
        return _refusal(403, "invalid_signature", "The signature or credentials do not match.")
    except (TooLarge, RequestDataTooBig):
        return _refusal(413, "request_too_large", "The e-mail is too large.")
    except SuspiciousOperation as exc:
        log.warning("Inbound e-mail webhook (%s): suspicious request: %s", provider, exc)
        return _refusal(400, "malformed", "Malformed payload.")
    except MALFORMED as exc:
        log.warning("Inbound e-mail webhook (%s): malformed payload: %r", provider, exc)
        return _refusal(400, "malformed", "Malformed payload.")
    return response
