"""Conversations on a number with one person (or an unknown phone), and their messages.

Life-cycle of an outbound message::

    queued --worker takes it--> sending --carrier accepted--> sent --callback--> delivered
                                  |  \\--transient error: retried with back-off (stays sending)
                                  '--permanent error / retries exhausted--> failed (refunded)
    sent --callback--> undelivered | failed   (the carrier tried; nothing is refunded)

Statuses only move forward (`Status.rank`), so late or repeated carrier callbacks change
nothing. Inbound messages are `received`. `(carrier, external_id)` is unique, so a
retried webhook stores nothing twice.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from hiretext.accounts.models import Organization
from hiretext.ats.models import Candidate, Contact
from hiretext.numbers.models import PhoneNumber


class Conversation(models.Model):
    """Everything said between one of our numbers and one person (or one unknown phone)."""

    # Leading columns of the composite indexes below: no single-column indexes of their own
    # (each index is one more write on every message).
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    number = models.ForeignKey(
        PhoneNumber, on_delete=models.CASCADE, related_name="conversations", db_index=False
    )
    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, null=True, blank=True, related_name="conversations"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="conversations"
    )
    phone = models.CharField(max_length=16, help_text="The other party's E.164 number")
    last_message_at = models.DateTimeField(null=True, blank=True)
    unread = models.BooleanField(default=False, help_text="Shared by everyone on the number")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["number", "candidate"],
                condition=Q(candidate__isnull=False),
                name="conversation_one_per_number_candidate",
            ),
            models.UniqueConstraint(
                fields=["number", "contact"],
                condition=Q(contact__isnull=False),
                name="conversation_one_per_number_contact",
            ),
            models.UniqueConstraint(
                fields=["number", "phone"],
                condition=Q(candidate__isnull=True, contact__isnull=True),
                name="conversation_one_per_number_unknown_phone",
            ),
            models.CheckConstraint(
                condition=Q(candidate__isnull=True) | Q(contact__isnull=True),
                name="conversation_at_most_one_person",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["number", "-last_message_at", "-id"], name="conversation_inbox"),
            models.Index(fields=["organization", "phone"], name="conversation_org_phone"),
            # An inbound text finds its conversation by our number and their phone (a person
            # has one or two there; `inbound._route_sql` sorts those). Without the message
            # time in it, a new message (which moves `conversation_inbox`) leaves it alone.
            models.Index(fields=["number", "phone"], name="conversation_route"),
        ]

    def __str__(self) -> str:
        return f"{self.person or self.phone} on {self.number_id}"

    @property
    def person(self) -> Candidate | Contact | None:
        return self.candidate or self.contact


class Message(models.Model):
    class Direction(models.TextChoices):
        OUTBOUND = "out", "Sent"
        INBOUND = "in", "Received"

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "E-mail"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Not delivered"
        FAILED = "failed", "Failed"
        RECEIVED = "received", "Received"

        @classmethod
        def rank(cls, status: str) -> int:
            return STATUS_RANK.get(status, 0)

    class Category(models.TextChoices):
        GENERAL = "general", "General"
        REJECTION = "rejection", "Rejection"
        INTERVIEW = "interview", "Interview"
        AUTOMATIC = "automatic", "Automatic reply"  # STOP/START/HELP answers: always sent, free

    # Leading columns of `message_org_recent` and `message_thread`: no indexes of their own.
    # The conversation's organisation, copied for tenant-scoped lists; no database constraint
    # (deleting an organisation still deletes its messages: Django cascades): checking it
    # locked the organisation's row at every message's commit, so the texts of one
    # organisation shared a lock with one another and waited behind anything holding it.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.SMS)
    body = models.TextField()
    segments = models.PositiveSmallIntegerField(default=1)
    encoding = models.CharField(max_length=5, default="GSM-7")
    status = models.CharField(max_length=12, choices=Status.choices)
    category = models.CharField(max_length=10, choices=Category.choices, default=Category.GENERAL)
    carrier = models.CharField(max_length=30, help_text="Carrier slug")
    external_id = models.CharField(max_length=64, blank=True, help_text="The carrier's id")
    error_code = models.CharField(max_length=30, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    sender = models.ForeignKey(  # indexed below only where set: received texts have none
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    idempotency_key = models.CharField(max_length=200, blank=True)
    allowance_units = models.PositiveIntegerField(default=0)
    allowance_period = models.DateField(null=True, blank=True)
    credit_units = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["carrier", "external_id"],
                condition=~Q(external_id=""),
                name="message_external_id_unique_per_carrier",
            ),
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="message_idempotency_key_per_sender",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["conversation", "-id"], name="message_thread"),
            models.Index(fields=["organization", "-created_at", "-id"], name="message_org_recent"),
            models.Index(
                fields=["sender"], condition=Q(sender__isnull=False), name="message_sender"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.status}: {self.body[:40]}"

    @property
    def is_outbound(self) -> bool:
        return self.direction == self.Direction.OUTBOUND

    @property
    def is_final(self) -> bool:
        return Message.Status.rank(self.status) >= FINAL_RANK


FINAL_RANK = 3
STATUS_RANK: dict[str, int] = {
    Message.Status.QUEUED: 0,
    Message.Status.SENDING: 1,
    Message.Status.SENT: 2,
    Message.Status.DELIVERED: FINAL_RANK,
    Message.Status.UNDELIVERED: FINAL_RANK,
    Message.Status.FAILED: FINAL_RANK,
    Message.Status.RECEIVED: FINAL_RANK,
}


class PhoneOptOut(models.Model):
    """A phone that texted STOP to the organisation, known person or not (org-wide opt-out).

    People with this mobile are opted out through `ats.services.set_consent`; this row also
    covers a phone that is nobody's yet, so a record created later cannot be texted either.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=16)
    wording = models.CharField(max_length=500, blank=True, help_text="The message received")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["organization", "phone"], name="phone_opt_out_once"),
        ]

    def __str__(self) -> str:
        return self.phone
