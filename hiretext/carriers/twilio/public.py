"""The URLs Twilio calls us at, seen from outside (HIRETEXT_PUBLIC_URL behind a proxy).

Twilio signs the exact URL it requested, so validation must rebuild that URL, not the one
the proxy forwarded to us; the same base builds the callback URLs we hand to Twilio.
"""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest

from hiretext.carriers.base import CarrierError


def public_base() -> str:
    return (getattr(settings, "HIRETEXT_PUBLIC_URL", "") or "").rstrip("/")


def webhook_url(kind: str) -> str:
    """`{public base}/webhooks/twilio/{kind}`; refuses to guess a URL Twilio could not reach."""
    base = public_base()
    if not base:
        raise CarrierError(
            "HIRETEXT_PUBLIC_URL is not set, so Twilio would have nowhere to send replies "
            "and delivery reports. Set it to this server's public https address."
        )
    return f"{base}/webhooks/twilio/{kind}"


REFERENCE = "reference"  # the status webhook's query parameter: our message id


def status_callback_url(message_id: int) -> str:
    """The status webhook for one message: Twilio's reports echo our id back, signed."""
    return f"{webhook_url('status')}?{urlencode({REFERENCE: message_id})}"


def requested_url(request: HttpRequest) -> str:
    """The URL Twilio requested: the public base with this request's path and query."""
    base = public_base()
    if not base:
        return request.build_absolute_uri()
    parts = urlsplit(base)
    path = request.get_full_path()
    prefix = parts.path.rstrip("/")
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        path = prefix + path  # the proxy strips the prefix before it reaches us
    return f"{parts.scheme}://{parts.netloc}{path}"
