"""The e-mail side of a message, and the simulator's mailboxes.

An e-mail is a `messaging.Message` with channel "email" (same conversation, statuses and
timeline as a text); `EmailDetails` holds what only e-mail has: subject, addresses,
threading headers and, for a reply, the full original next to the trimmed text shown.

Life-cycle of an outbound e-mail::

    queued --worker takes it--> sending --mail server accepted--> sent
                                  |  \\--transient error: retried with back-off
                                  '--refused / retries exhausted--> failed

Inbound e-mails are `received`; `(carrier="email", external_id=sha256 of Message-ID)` is
unique, so a provider's retry (or the same e-mail through two providers) is stored once.
"""

from email.utils import getaddresses
from typing import ClassVar

from django.db import models

from hiretext.messaging.models import Message


class EmailDetails(models.Model):
    """Subject, addresses, threading headers and the kept original of one e-mail."""

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, primary_key=True, related_name="email"
    )
    subject = models.CharField(max_length=300)
    from_address = models.CharField(max_length=320)
    to_address = models.CharField(max_length=320)
    reply_to = models.CharField(max_length=320, blank=True)
    message_id_header = models.CharField(
        max_length=255, blank=True, help_text="The Message-ID header"
    )
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True, max_length=4000)
    full_text = models.TextField(
        blank=True, help_text="An inbound e-mail's whole text, quoted history included"
    )
    html = models.TextField(blank=True, help_text="The original HTML part (never rendered)")
    headers = models.JSONField(default=list, blank=True, help_text="[[name, value], …]")
    attachments = models.JSONField(
        default=list, blank=True, help_text="[{name, size, type}, …]: metadata only"
    )
    provider = models.CharField(max_length=30, blank=True, help_text="mailgun, postmark, …")
    event_id = models.CharField(max_length=100, blank=True, help_text="The provider's event id")
    truncated = models.BooleanField(default=False, help_text="Something was cut to fit")

    class Meta:
        verbose_name_plural = "e-mail details"
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["message_id_header"], name="email_message_id"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def trimmed(self) -> bool:
        """The conversation shows less than the whole e-mail (quoted history, signature)."""
        return bool(self.full_text) and self.full_text.strip() != self.message.body.strip()


class SimulatorMail(models.Model):
    """One e-mail in a simulated mailbox: received from the app, or sent by its owner."""

    class Direction(models.TextChoices):
        RECEIVED = "received", "Received"
        SENT = "sent", "Sent"

    address = models.CharField(max_length=254, help_text="The mailbox (lower case)")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    sender = models.CharField(max_length=320)
    to = models.CharField(max_length=1000)
    reply_to = models.CharField(max_length=1000, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["address", "id"], name="simulator_mail_box"),
            models.Index(fields=["message_id"], name="simulator_mail_message_id"),
        ]

    def __str__(self) -> str:
        return f"{self.address}: {self.subject}"

    @property
    def answer_to(self) -> str:
        """Where a reply goes: the Reply-To address, else the sender's."""
        for value in (self.reply_to, self.sender):
            found = [address for _, address in getaddresses([value]) if address]
            if found:
                return found[0]
        return ""
