"""Inbox rules: opening a conversation reads it for everyone on its number; reply e-mails.

"Looking at a conversation" (no reply e-mail) means: the user's browser showed it within
the last HIRETEXT_NOTIFY_LOOKING_SECONDS (opening it, or the open chat or SMS modal
refreshing it; both refresh on each new message and at least every few seconds). Kept in
the database (`Attention.seen_at`), so every process and the worker agree on it.
"""

import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone

from hiretext.accounts.models import User
from hiretext.inbox import events
from hiretext.inbox.models import Attention, Event, ReplyNotice
from hiretext.lib import prepared
from hiretext.messaging import services as messaging_services
from hiretext.messaging.models import Conversation, Message
from hiretext.numbers.queries import users_on_number

log = logging.getLogger(__name__)

SEEN_WRITE_EVERY = timedelta(seconds=5)  # refreshes within this add no write
SNIPPET = 60


def looking_window() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "HIRETEXT_NOTIFY_LOOKING_SECONDS", 30)))


def throttle_window() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "HIRETEXT_NOTIFY_THROTTLE_SECONDS", 300)))


# --- reading ---------------------------------------------------------------------------------


def open_conversation(user: User, conversation: Conversation) -> bool:
    """`user` (on its number; callers use `access_conversation`) sees the conversation.

    It becomes read for everyone on the number (their bells drop at once, through a `read`
    event) and the user counts as looking at it. True if it was unread. A conversation
    fetched as read is not written again: a repeat view costs reads only.
    """
    was_unread = bool(conversation.unread) and messaging_services.mark_read(conversation, user)
    conversation.unread = False
    touch_seen(user, conversation)
    return was_unread


def touch_seen(user: User, conversation: Conversation, now: datetime | None = None) -> None:
    """Remember that `user` is looking at `conversation`.

    One read while the mark is fresh (refreshes within SEEN_WRITE_EVERY write nothing, so
    they never wait for SQLite's write lock); a missing or older mark adds one write.
    """
    now = now or timezone.now()
    seen_at = Attention._meta.get_field("seen_at")
    fresh_since = seen_at.get_db_prep_save(now - SEEN_WRITE_EVERY, connection)
    # One plain SELECT on every conversation page: the ORM took longer to build it than the
    # database to run it. None: no mark; (True,): fresh; (False,) or (None,): stale.
    found = prepared.fetchone(_SEEN_SQL, [fresh_since, user.pk, conversation.pk])
    if found is not None and found[0]:
        return
    mine = Attention.objects.filter(user=user, conversation=conversation)
    if found is None:
        try:
            with transaction.atomic():
                Attention.objects.create(user=user, conversation=conversation, seen_at=now)
            return
        except IntegrityError:
            pass  # a parallel request of the same user wrote it: refresh that row instead
    mine.filter(Q(seen_at__isnull=True) | Q(seen_at__lt=now - SEEN_WRITE_EVERY)).update(seen_at=now)


_SEEN_SQL = "SELECT seen_at >= %s FROM inbox_attention WHERE user_id = %s AND conversation_id = %s"


def publish_read(conversation: Conversation, user: User | None = None) -> Event:
    data = {"by": user.display_name} if user is not None else {}
    return events.publish(
        Event.Kind.READ,
        number_id=conversation.number_id,
        conversation_id=conversation.pk,
        data={"unread_conversation": False, **data},
    )


def publish_message(message: Message, *, after_commit: bool = False) -> None:
    """A new message's event; `after_commit` from inside the transaction that stores it."""
    publish = events.publish_after_commit if after_commit else events.publish
    publish(
        Event.Kind.MESSAGE,
        number_id=message.conversation.number_id,
        conversation_id=message.conversation_id,
        message_id=message.pk,
        data={"direction": message.direction, "status": message.status},
    )


def publish_status(message: Message) -> Event:
    conversation = message.conversation
    return events.publish(
        Event.Kind.STATUS,
        number_id=conversation.number_id,
        conversation_id=conversation.pk,
        message_id=message.pk,
        data={"status": message.status},
    )


def prune_events(now: datetime | None = None, keep: timedelta | None = None) -> int:
    """Delete events older than HIRETEXT_EVENTS_KEEP_HOURS; a browser away longer reloads."""
    hours = int(getattr(settings, "HIRETEXT_EVENTS_KEEP_HOURS", 48))
    cutoff = (now or timezone.now()) - (keep if keep is not None else timedelta(hours=hours))
    # Ids grow with time: everything up to the newest event older than the cutoff goes. Its
    # id is found walking back from the newest through the kept window (no index on
    # created_at, which every event written would have to update).
    boundary = (
        Event.objects.filter(created_at__lt=cutoff)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if boundary is None:
        return 0
    deleted, _ = Event.objects.filter(id__lte=boundary).delete()
    return deleted


# --- reply e-mails ---------------------------------------------------------------------------


def _claim(user: User, conversation: Conversation, now: datetime) -> datetime | None | bool:
    """Take this user's e-mail slot for the conversation; False if one went out recently.

    Returns the previous `notified_at` (None if never) so a failed send can give it back.
    Safe against parallel workers: the update and the unique row decide who sends.
    """
    cutoff = now - throttle_window()
    row = Attention.objects.filter(user=user, conversation=conversation).first()
    if row is not None:
        previous = row.notified_at
        updated = (
            Attention.objects.filter(pk=row.pk)
            .filter(Q(notified_at__isnull=True) | Q(notified_at__lte=cutoff))
            .update(notified_at=now)
        )
        return previous if updated else False
    try:
        with transaction.atomic():
            Attention.objects.create(user=user, conversation=conversation, notified_at=now)
    except IntegrityError:
        return False  # a parallel worker created it (and sends)
    return None


def _is_looking(user: User, conversation: Conversation, now: datetime) -> bool:
    return Attention.objects.filter(
        user=user, conversation=conversation, seen_at__gte=now - looking_window()
    ).exists()


def _one_line(text: str, limit: int) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def conversation_url(conversation: Conversation) -> str:
    """Absolute when HIRETEXT_PUBLIC_URL is set (e-mails leave the site), else a path."""
    path = reverse("inbox:chat", args=[conversation.pk])
    base = (getattr(settings, "HIRETEXT_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def reply_email(user: User, message: Message) -> EmailMultiAlternatives:
    conversation = message.conversation
    person = conversation.person
    sender = _one_line(person.full_name if person else conversation.phone, 80)
    org = conversation.number.organization
    context = {
        "user": user,
        "sender": sender,
        "phone": conversation.phone,
        "number": conversation.number.e164,
        "body": message.body,
        "received_at": dateformat.format(
            timezone.localtime(message.created_at, org.zone), "M j, Y H:i T"
        ),
        "url": conversation_url(conversation),
        "settings_url": f"{(getattr(settings, 'HIRETEXT_PUBLIC_URL', '') or '').rstrip('/')}"
        f"{reverse('inbox:settings')}",
        "org": org,
    }
    email = EmailMultiAlternatives(
        subject=f"{sender} replied: {_one_line(message.body, SNIPPET)}",
        body=render_to_string("inbox/email/reply.txt", context),
        to=[user.email],
        headers={
            "Auto-Submitted": "auto-generated",
            "X-Hiretext-Conversation": str(conversation.pk),
        },
    )
    email.attach_alternative(render_to_string("inbox/email/reply.html", context), "text/html")
    return email


def notify_reply(message_id: int, now: datetime | None = None) -> list[str]:
    """E-mail an inbound message to each user on its number who is not looking at it.

    Skipped: users who turned `notify_on_reply` off, have no e-mail address, looked at the
    conversation in the last HIRETEXT_NOTIFY_LOOKING_SECONDS, or were e-mailed about it in
    the last HIRETEXT_NOTIFY_THROTTLE_SECONDS. Returns the addresses written to.
    """
    now = now or timezone.now()
    message = (
        Message.objects.select_related(
            "conversation__number__organization", "conversation__candidate", "conversation__contact"
        )
        .filter(pk=message_id, direction=Message.Direction.INBOUND)
        .first()
    )
    if message is None:
        return []
    conversation = message.conversation
    sent: list[str] = []
    for user in users_on_number(conversation.number):
        if not user.notify_on_reply or not user.email or _is_looking(user, conversation, now):
            continue
        previous = _claim(user, conversation, now)
        if previous is False:
            continue
        try:
            reply_email(user, message).send()
        except Exception:
            # Give the slot back so the next reply (or a retry) may e-mail them.
            Attention.objects.filter(user=user, conversation=conversation, notified_at=now).update(
                notified_at=previous
            )
            raise
        sent.append(user.email)
    return sent


REPLY_NOTICE_BATCH = 100


def send_reply_emails(limit: int = REPLY_NOTICE_BATCH) -> int:
    """Send the reply e-mails of up to `limit` received messages, oldest first; how many
    messages were handled (the worker's notifier calls this until it returns less).

    The notices are claimed and deleted in one short transaction (SKIP LOCKED: notifiers on
    several machines never take the same one; on SQLite the single writer orders them),
    then the e-mails go out outside it. An e-mail that fails is logged and not retried, as
    a failed task was not; its throttle slot is given back (`notify_reply`).
    """
    with transaction.atomic():
        claimed = list(
            ReplyNotice.objects.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", "message_id")[:limit]
        )
        if claimed:
            ReplyNotice.objects.filter(id__in=[notice for notice, _ in claimed]).delete()
    for _, message_id in claimed:
        try:
            notify_reply(message_id)
        except Exception:
            log.exception("Could not send the reply e-mails of message %s", message_id)
    return len(claimed)


def set_notify_on_reply(user: User, enabled: bool) -> None:
    User.objects.filter(pk=user.pk).update(notify_on_reply=enabled)
    user.notify_on_reply = enabled
