"""anymail's `inbound` signal (every provider's webhook, and the simulator's) to our service."""

import logging
from typing import Any

from django.db import DatabaseError

log = logging.getLogger(__name__)


def on_inbound(sender: Any, event: Any, esp_name: str = "", **kwargs: Any) -> None:
    """Record one inbound e-mail; a message we cannot read is rejected, never a 500.

    Database errors propagate: the webhook answers 5xx and the provider retries later.
    """
    from hiretext.mail import parsing, services

    provider = (esp_name or "unknown").lower()
    message = getattr(event, "message", None)
    if message is None:
        log.warning("Inbound e-mail event without a message from %s", provider)
        return
    try:
        parsed = parsing.parse(message, getattr(message, "envelope_recipient", None))
        services.record_reply(parsed, provider=provider, event_id=str(event.event_id or "")[:100])
    except DatabaseError:
        raise
    except Exception:
        log.exception("Inbound e-mail from %s could not be read; rejected", provider)


def connect() -> None:
    from anymail.signals import inbound

    inbound.connect(on_inbound, dispatch_uid="hiretext.mail.inbound")
