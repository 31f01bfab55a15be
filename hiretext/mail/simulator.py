"""The simulator's mailboxes (DESIGN: The simulator carrier): read, and answer by e-mail.

A mailbox holds what the app sent to an address (through `SimulatorMailboxBackend`) and
what its owner answered. An answer is real MIME, quoting the e-mail it replies to as a
mail program would, posted to the app's signed inbound webhook in-process: the same
parsing, matching and storing as a provider's request. No login: it is the outside world,
served unless HIRETEXT_SIMULATOR_ENABLED=0.
"""

import secrets
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone

from hiretext.carriers.simulator import phones
from hiretext.mail import services
from hiretext.mail.models import SimulatorMail
from hiretext.mail.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER
from hiretext.messaging.models import Message

MAX_TEXT = 100_000
MAX_SUBJECT = 300
MAX_LIST = 200
MAILBOX_DOMAIN = "mailbox.simulator"


def valid_address(value: object) -> str | None:
    """The address, lower-cased, if `value` is one e-mail address; else None."""
    if not isinstance(value, str):
        return None
    address = value.strip().lower()
    if not address or len(address) > 254:
        return None
    try:
        validate_email(address)
    except ValidationError:
        return None
    return address


def received(address: str) -> list[SimulatorMail]:
    return list(
        SimulatorMail.objects.filter(
            address=address, direction=SimulatorMail.Direction.RECEIVED
        ).order_by("id")[:MAX_LIST]
    )


def mailbox(address: str) -> list[SimulatorMail]:
    """Everything in the mailbox, received and sent, oldest first (the latest 200)."""
    rows = list(SimulatorMail.objects.filter(address=address).order_by("-id")[:MAX_LIST])
    rows.reverse()
    return rows


def _quoted(original: SimulatorMail) -> str:
    when = format_datetime(original.created_at)
    lines = "\n".join(f"> {line}" for line in original.text.rstrip().split("\n"))
    return f"On {when}, {original.sender} wrote:\n{lines}\n"


@dataclass(frozen=True)
class Delivery:
    message_id: str
    webhook_status: int
    stored: bool


def build_reply(
    sender: str, to: str, subject: str, text: str, in_reply_to: str = ""
) -> MimeMessage:
    """The reply as the person's mail program would send it (quoting what it answers)."""
    original = (
        SimulatorMail.objects.filter(address=sender, message_id=in_reply_to).first()
        if in_reply_to
        else None
    )
    body = text.rstrip() + "\n"
    if original is not None:
        body += "\n" + _quoted(original)
    message = MimeMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=MAILBOX_DOMAIN)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        references = original.headers.get("References", "") if original else ""
        message["References"] = f"{references} {in_reply_to}".strip()
    message.set_content(body)
    return message


def post_to_app(raw: bytes, event_id: str) -> HttpResponse:
    """Hand raw MIME to the app's inbound e-mail webhook, signed, as a provider would."""
    path = reverse("mail:inbound", kwargs={"provider": "simulator"})
    request = RequestFactory().post(
        path,
        data=raw,
        content_type="message/rfc822",
        headers={SIGNATURE_HEADER: phones.sign(raw), EVENT_ID_HEADER: event_id},
    )
    match = resolve(path)
    response: HttpResponse = match.func(request, *match.args, **match.kwargs)
    return response


def send_reply(sender: str, to: str, subject: str, text: str, in_reply_to: str = "") -> Delivery:
    """The owner of mailbox `sender` answers by e-mail; the app receives it."""
    message = build_reply(sender, to, subject, text, in_reply_to)
    message_id = str(message["Message-ID"])
    SimulatorMail.objects.create(
        address=sender,
        direction=SimulatorMail.Direction.SENT,
        sender=sender,
        to=to,
        subject=subject,
        text=message.get_content()[:MAX_TEXT],
        headers={k: str(v) for k, v in message.items()},
        message_id=message_id,
    )
    response = post_to_app(message.as_bytes(), "SIMMAIL" + secrets.token_hex(12))
    external_id = services.external_id_for(message_id, "", "", b"")
    stored = Message.objects.filter(carrier=services.CARRIER, external_id=external_id).exists()
    return Delivery(message_id, response.status_code, stored)
