"""The inbox's own state: the event log behind the live stream, and who saw or was told what.

`Event` rows are the stream: each carries a number, and a browser receives the events of
the number its user is on *when the event is sent*. Ids only grow and are committed in
order (`events.publish`), so "everything after id N" is a complete, resumable cursor
(`Last-Event-ID`). Old rows are pruned (`hiretext prune_events`). `ReplyNotice` rows are
the received messages whose reply e-mails have yet to go out.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models

from hiretext.numbers.models import PhoneNumber


class Event(models.Model):
    """Something a browser on the number should learn about: a message, a status, a read."""

    class Kind(models.TextChoices):
        MESSAGE = "message", "New message"
        STATUS = "status", "Status changed"
        READ = "read", "Conversation read"

    # The leading column of `inbox_event_number_id`: no index of its own. No database
    # constraint: its check ran at commit, inside the section the event lock orders, and
    # locked the number's row for every event; the number is the message's own.
    number = models.ForeignKey(
        PhoneNumber,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # Plain ids, no foreign keys: an event outlives a conversation merged away by linking,
    # and writing one never locks the conversation or message rows.
    conversation_id = models.BigIntegerField()
    message_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    # Not indexed: pruning finds its boundary by id (ids grow with time), so writing an
    # event (one per message) updates one index less.
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["number", "id"], name="inbox_event_number_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} in conversation {self.conversation_id}"


class Attention(models.Model):
    """One user and one conversation: when they last looked at it, when we last e-mailed them.

    `seen_at` answers "is this user looking at the conversation?" (reply e-mails skip them);
    `notified_at` throttles reply e-mails to one per conversation per few minutes.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    seen_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["user", "conversation"], name="attention_once"),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} on conversation {self.conversation_id}"


class ReplyNotice(models.Model):
    """A received message whose reply e-mails are still to be sent (`services.send_reply_emails`).

    Written in the transaction that stores the message (messaging's `write_with_each_message`),
    so none is lost; the worker claims them oldest first and deletes them as it goes. One
    narrow row without secondary indexes: on the inbound webhook's hot path it replaced a
    task row (five index entries and a JSON payload) per message.
    """

    message_id = models.BigIntegerField()  # a plain id, as `Event`'s: no lock on the message

    def __str__(self) -> str:
        return f"reply e-mails for message {self.message_id}"
