"""An outbound e-mail as it goes on the wire: text and HTML parts, sender, threading headers."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from hiretext.mail.addresses import formatted
from hiretext.mail.models import EmailDetails
from hiretext.messaging.models import Message


def from_address() -> str:
    return str(settings.HIRETEXT_EMAIL_FROM).strip()


def sender_name(message: Message) -> str:
    """The organisation's name: candidates see who is writing, whoever the sender is."""
    return message.organization.name


def build(message: Message, details: EmailDetails) -> EmailMultiAlternatives:
    """The e-mail for `message`; its Message-ID was fixed when it was accepted."""
    context = {
        "body": message.body,
        "subject": details.subject,
        "author": message.sender.display_name if message.sender else "",
        "organization": message.organization.name,
    }
    headers = {"Message-ID": details.message_id_header}
    if details.in_reply_to:
        headers["In-Reply-To"] = details.in_reply_to
    if details.references:
        headers["References"] = details.references
    email = EmailMultiAlternatives(
        subject=details.subject,
        body=render_to_string("mail/outbound.txt", context),
        from_email=formatted(sender_name(message), details.from_address),
        to=[details.to_address],
        reply_to=[details.reply_to],
        headers=headers,
    )
    email.attach_alternative(render_to_string("mail/outbound.html", context), "text/html")
    return email
