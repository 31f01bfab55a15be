"""The simulator's mail backend: outbound e-mail lands in simulated mailboxes (the demo).

Selected by default while the simulator is enabled and EMAIL_BACKEND is not set, so the
demo works offline: `GET /simulator/api/mailbox?address=` shows what each address got.
"""

from collections.abc import Sequence
from email.message import EmailMessage as MimeMessage
from email.utils import getaddresses
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from hiretext.mail.models import SimulatorMail

MAX_TEXT = 100_000


def _part(message: MimeMessage, content_type: str) -> str:
    for part in message.walk():
        if part.get_content_type() == content_type and part.get_content_disposition() is None:
            content = part.get_content()
            return content if isinstance(content, str) else ""
    return ""


def store(message: MimeMessage, recipients: Sequence[str]) -> list[SimulatorMail]:
    """Put a copy of `message` in each recipient's mailbox."""
    headers: dict[str, Any] = {}
    for key, value in message.items():
        headers[key] = str(value)
    rows = []
    for _, address in getaddresses(list(recipients)):
        if not address:
            continue
        rows.append(
            SimulatorMail.objects.create(
                address=address.lower()[:254],
                direction=SimulatorMail.Direction.RECEIVED,
                sender=str(message.get("From", ""))[:320],
                to=str(message.get("To", ""))[:1000],
                reply_to=str(message.get("Reply-To", ""))[:1000],
                subject=str(message.get("Subject", ""))[:300],
                text=_part(message, "text/plain")[:MAX_TEXT],
                html=_part(message, "text/html")[:MAX_TEXT],
                headers=headers,
                message_id=str(message.get("Message-ID", ""))[:255],
            )
        )
    return rows


class SimulatorMailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for email in email_messages:
            recipients = email.recipients()
            if not recipients:
                continue
            store(email.message(), recipients)
            sent += 1
        return sent
