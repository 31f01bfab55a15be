"""E-mail fixtures: a recruiter on a number, people with addresses, providers' webhooks.

`smtp_server` starts a real SMTP server (aiosmtpd) on a free local port and points the
default mailer at it; what arrived is in `smtp_server.received` (envelope and bytes).
Providers' requests are built as the providers send them, signed as they sign them.
"""

import base64
import hashlib
import hmac
import json
import socket
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from hiretext.ats import services as ats_services
from hiretext.ats.models import Candidate
from hiretext.mail.models import EmailDetails
from hiretext.messaging import services as messaging_services
from hiretext.messaging.models import Message
from hiretext.messaging.tests.conftest import (
    IMMEDIATE,
    make_number,
    nora,  # noqa: F401 - a fixture
)

ALEX_EMAIL = "alex.rivera@example.com"
MAILGUN_KEY = "mailgun-signing-key-for-tests"
POSTMARK_AUTH = ("postmark", "webhook-s3cret")


@pytest.fixture
def immediate(settings):
    settings.TASKS = IMMEDIATE


@pytest.fixture(autouse=True)
def providers(settings):
    settings.ANYMAIL = {
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "WEBHOOK_SECRET": ":".join(POSTMARK_AUTH),
    }
    settings.HIRETEXT_REPLY_DOMAIN = "reply.hiretext.test"
    settings.HIRETEXT_EMAIL_FROM = "jobs@hiretext.test"


@pytest.fixture
def number(org, recruiter):
    return make_number(org, [recruiter])


def make_person(org, actor, *, email=ALEX_EMAIL, mobile="+14155550123", consent=True, **names):
    fields = {"first_name": "Alex", "last_name": "Rivera", "email": email, "mobile": mobile}
    fields.update(names)
    return ats_services.create_person(
        Candidate,
        org,
        actor,
        fields,
        sms_consent=consent,
        consent_note="Agreed on the phone" if consent else "",
    )


@pytest.fixture
def alex(org, recruiter):
    return make_person(org, recruiter)


def send_email(actor, person, subject="Interview on Tuesday", body="Hi Alex, are you free?", **kw):
    """Through the same entry point as the API and the composer."""
    return messaging_services.send_message(
        actor, person, body, channel="email", subject=subject, **kw
    ).message


@pytest.fixture
def send(django_capture_on_commit_callbacks, immediate):
    """`send(actor, person, …)`: accept, and run what follows the commit (the worker's step)."""

    def run(actor, person, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return send_email(actor, person, **kwargs)

    return run


def details(message):
    return EmailDetails.objects.get(message=message)


# --- a reply as a mail program writes it --------------------------------------------------


def reply_mime(
    to,
    *,
    sender=ALEX_EMAIL,
    text="Yes, Tuesday works for me.",
    subject="Re: Interview on Tuesday",
    in_reply_to=None,
    html=None,
    attachments=(),
    message_id=None,
):
    message = MimeMessage()
    message["From"] = f"Alex Rivera <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for name, content, mimetype in attachments:
        maintype, subtype = mimetype.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


# --- providers ----------------------------------------------------------------------------


def mailgun_signature(timestamp, token, key=MAILGUN_KEY):
    return hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def mailgun_fields(recipient, sender=ALEX_EMAIL, key=MAILGUN_KEY, token=None):
    timestamp = str(int(time.time()))
    token = token or uuid.uuid4().hex + uuid.uuid4().hex[:18]
    return {
        "recipient": recipient,
        "sender": sender,
        "timestamp": timestamp,
        "token": token,
        "signature": mailgun_signature(timestamp, token, key),
    }


def basic_auth(auth=POSTMARK_AUTH):
    """The credentials in the webhook URL given to the provider (anymail's WEBHOOK_SECRET)."""
    if auth is None:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(":".join(auth).encode()).decode()}


def post_mailgun(client, fields, auth=POSTMARK_AUTH):
    """To the route's forward URL: ".../inbound_mime" for raw MIME, ".../inbound" parsed."""
    path = "inbound_mime" if "body-mime" in fields else "inbound"
    return client.post(f"/webhooks/email/mailgun/{path}", fields, headers=basic_auth(auth))


def post_mailgun_mime(client, message, *, key=MAILGUN_KEY, token=None, **overrides):
    """Mailgun's route `forward("https://user:pass@…/mime")`: a form with the raw MIME."""
    fields = mailgun_fields(str(message["To"]), key=key, token=token)
    fields.update(
        {
            "from": str(message["From"]),
            "subject": str(message["Subject"]),
            "body-mime": message.as_string(),
        }
    )
    fields.update(overrides)
    return post_mailgun(client, fields)


def post_mailgun_parsed(client, message, files=(), *, key=MAILGUN_KEY, token=None):
    """Mailgun's fully parsed form: headers as JSON, bodies as fields, attachments as files."""
    fields = mailgun_fields(str(message["To"]), key=key, token=token)
    text = message.get_body(("plain",))
    fields.update(
        {
            "from": str(message["From"]),
            "subject": str(message["Subject"]),
            "message-headers": json.dumps([[k, str(v)] for k, v in message.items()]),
            "body-plain": text.get_content() if text is not None else "",
            "attachment-count": str(len(files)),
        }
    )
    for i, upload in enumerate(files, start=1):
        fields[f"attachment-{i}"] = upload
    return post_mailgun(client, fields)


def postmark_payload(message, *, raw=True):
    """Postmark's inbound JSON (with RawEmail when "include raw content" is on)."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    sender = message["From"].addresses[0]
    payload = {
        "FromName": sender.display_name,
        "MessageStream": "inbound",
        "From": sender.addr_spec,
        "FromFull": {"Email": sender.addr_spec, "Name": sender.display_name, "MailboxHash": ""},
        "To": str(message["To"]),
        "ToFull": [
            {"Email": a.addr_spec, "Name": a.display_name, "MailboxHash": ""}
            for a in message["To"].addresses
        ],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": message["To"].addresses[0].addr_spec,
        "Subject": str(message["Subject"]),
        "MessageID": str(uuid.uuid4()),
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": str(message["Date"]),
        "TextBody": text.get_content() if text is not None else "",
        "HtmlBody": html.get_content() if html is not None else "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": k, "Value": str(v)}
            for k, v in message.items()
            if k.lower() not in ("from", "to", "cc", "subject", "date")
        ],
        "Attachments": [
            {
                "Name": part.get_filename(),
                "Content": base64.b64encode(part.get_payload(decode=True)).decode(),
                "ContentType": part.get_content_type(),
                "ContentLength": len(part.get_payload(decode=True)),
            }
            for part in message.iter_attachments()
        ],
    }
    if raw:
        payload["RawEmail"] = message.as_string()
    return payload


def post_postmark(client, payload, *, auth=POSTMARK_AUTH, raw_body=None):
    headers = basic_auth(auth)
    body = raw_body if raw_body is not None else json.dumps(payload)
    return client.post(
        "/webhooks/email/postmark/inbound",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def inbound_emails():
    return Message.objects.filter(channel="email", direction="in")


# --- a real SMTP server -------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list
    content: bytes


@dataclass
class SmtpHandler:
    received: list = field(default_factory=list)
    refuse_rcpt: str = ""  # e.g. "550 5.1.1 No such user"
    refuse_data: str = ""  # e.g. "451 4.3.0 Try again later"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.refuse_data:
            return self.refuse_data
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    handler = SmtpHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    handler.port = port
    yield handler
    controller.stop()
