"""Messaging's signals, turned into inbox events and reply e-mails.

`message_received` arrives inside the transaction that stores the message (its reply
notice, registered with `write_with_each_message`, commits with it; the worker's notifier
sends the e-mails); its event is written as `events.publish_after_commit` finds cheapest.
The others arrive after commit.
"""

import logging
from typing import Any

from django.db import transaction

from hiretext.messaging import signals
from hiretext.messaging.inbound import message_received, write_with_each_message
from hiretext.messaging.models import Conversation, Message

log = logging.getLogger(__name__)


def on_message_received(sender: Any, message: Message, **kwargs: Any) -> None:
    from hiretext.inbox import services, tasks

    if not kwargs.get("event_published"):
        services.publish_message(message, after_commit=True)
    if tasks.run_inline():
        # No worker runs with an immediate task backend: send the e-mails once committed.
        transaction.on_commit(services.send_reply_emails, robust=True)


def on_message_sent(sender: Any, message: Message, **kwargs: Any) -> None:
    from hiretext.inbox import services

    if not kwargs.get("event_published"):
        services.publish_message(message, after_commit=True)  # inside or after the transaction


def on_status_changed(sender: Any, message: Message, **kwargs: Any) -> None:
    from hiretext.inbox import services

    try:
        services.publish_status(message)
    except Exception:
        log.exception("Could not publish the status event of message %s", message.pk)


def on_conversation_read(
    sender: Any, conversation: Conversation, user: Any = None, **kwargs: Any
) -> None:
    from hiretext.inbox import services

    services.publish_read(conversation, user)


def on_conversation_viewed(
    sender: Any, conversation: Conversation, user: Any, **kwargs: Any
) -> None:
    from hiretext.inbox import services

    services.touch_seen(user, conversation)


def connect() -> None:
    from hiretext.inbox.models import ReplyNotice

    # A reply notice is written in the transaction that stores each inbound message.
    write_with_each_message(ReplyNotice)
    message_received.connect(on_message_received, dispatch_uid="inbox.message_received")
    signals.message_sent.connect(on_message_sent, dispatch_uid="inbox.message_sent")
    signals.message_status_changed.connect(on_status_changed, dispatch_uid="inbox.status")
    signals.conversation_read.connect(on_conversation_read, dispatch_uid="inbox.read")
    signals.conversation_viewed.connect(on_conversation_viewed, dispatch_uid="inbox.viewed")
