"""The send path's common case on PostgreSQL, written as one statement.

A text to a person who already has a conversation on the sender's number, paid whole from
the month's allowance, is nearly every send. On PostgreSQL it is one prepared statement
in autocommit: the allowance is taken first (the conditional upsert of the month's usage
row that `numbers.allowance.take_whole` runs), and the message, the conversation's time,
the timeline line and the delivery task are inserted from its result, then one commit.
The inbox's event of the message follows in the same round trip, in a transaction of
its own (`inbox.events.run_then_publish`).

The usage row is locked from that upsert to the commit, and every send from the number
waits for it. With separate statements the lock was held across four more round trips,
each a chance for the web process holding it to be descheduled while the others queue
(2 cores, 5 processes, and PostgreSQL itself): 412 sends/s. Here it is held for the rest
of one statement and its commit.

When the allowance cannot pay for the whole text, the statement writes nothing and the
general path (`services._accept`: what is left, then credits) runs in a transaction.
"""

from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hiretext.ats.models import ActivityEntry
from hiretext.lib import loaded, prepared, rows
from hiretext.lib import tasks as task_queue
from hiretext.messaging import signals
from hiretext.messaging.models import Conversation, Message
from hiretext.numbers.allowance import period_in
from hiretext.numbers.models import MonthlyUsage

if TYPE_CHECKING:
    from hiretext.messaging.services import _Request

# The timeline line repeats the message's text and time: taken from the inserted row, not
# sent twice.
_ENTRY_FROM_MESSAGE = {"ref_id": "m.id", "body": "m.body", "created_at": "m.created_at"}
_TASK_FROM_MESSAGE = {
    "args_kwargs": "jsonb_build_object('args', jsonb_build_array(m.id), 'kwargs', '{}'::jsonb)"
}


@cache
def _statement(with_task: bool) -> str:
    from hiretext.inbox.events import record_written_message

    quote = connection.ops.quote_name
    usage = quote(MonthlyUsage._meta.db_table)
    conversation = quote(Conversation._meta.db_table)
    parts = [
        f"u AS (INSERT INTO {usage} (number_id, period, used) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT (number_id, period) DO UPDATE SET used = {usage}.used + EXCLUDED.used "
        f"WHERE {usage}.used + EXCLUDED.used <= %s RETURNING used)",
        f"m AS ({rows.insert_select(Message, {}, 'u')} RETURNING id, body, created_at)",
        f"c AS (UPDATE {conversation} SET last_message_at = m.created_at FROM m "  # noqa: S608
        f"WHERE {conversation}.id = %s)",
        f"a AS ({rows.insert_select(ActivityEntry, _ENTRY_FROM_MESSAGE, 'm')})",
    ]
    if with_task:
        parts.append(f"t AS ({rows.insert_select(DBTaskResult, _TASK_FROM_MESSAGE, 'm')})")
    written = record_written_message("m.id")
    return f"WITH {', '.join(parts)} SELECT m.id, {written} FROM m"  # noqa: S608 - names from models


def accept_in_one_statement(request: "_Request") -> Message | None:
    """Write and pay for the text in one statement; None (nothing written) when the
    allowance cannot pay for all of it. IntegrityError: the Idempotency-Key was taken by a
    parallel request (nothing written)."""
    from hiretext.messaging.tasks import deliver_message

    route, person, actor = request.route, request.person, request.actor
    assert route.conversation_id is not None
    if request.segments > route.monthly_allowance:
        return None
    now = timezone.now()
    period = period_in(route.time_zone, now)
    conversation = route.known_conversation(person)
    conversation.last_message_at = now
    fields: dict[str, Any] = {
        "organization_id": route.organization_id,
        "conversation_id": conversation.pk,
        "direction": Message.Direction.OUTBOUND,
        "channel": Message.Channel.SMS,
        "body": request.text,
        "segments": request.segments,
        "encoding": request.encoding,
        "status": Message.Status.QUEUED,
        "category": request.category,
        "carrier": route.carrier,
        "sender_id": actor.pk,
        "idempotency_key": request.idempotency_key,
        "allowance_units": request.segments,
        "allowance_period": period,
        "created_at": now,
        "updated_at": now,
    }
    entry = {
        "candidate_id": conversation.candidate_id,
        "contact_id": conversation.contact_id,
        "organization_id": person.organization_id,
        "kind": ActivityEntry.Kind.SMS_OUT,
        "summary": f"SMS to {person.mobile_display} ({actor.display_name})"[:300],
        "actor_id": actor.pk,
    }
    task = task_queue.row_values(deliver_message, 0)
    params = [
        route.number_id,
        period,
        request.segments,
        route.monthly_allowance,
        *rows.params(Message, fields),
        conversation.pk,
        *rows.params(ActivityEntry, entry, computed=_ENTRY_FROM_MESSAGE),
    ]
    if task is not None:
        params += rows.params(DBTaskResult, task, computed=_TASK_FROM_MESSAGE)
    sql = _statement(task is not None)
    event_published = False
    if connection.in_atomic_block:  # a caller's transaction: a failure must not break it
        with transaction.atomic():
            row = prepared.fetchone(sql, params)
    elif signals.message_sent.has_listeners(Message):
        row, event_published = _accept_and_publish(sql, params)
    else:
        row = prepared.fetchone(sql, params)
    if row is None:
        return None
    message = loaded.written(Message, fields | {"id": row[0]})
    message.conversation = conversation
    message.sender = actor
    # Committed already (autocommit): the inbox's event is written now (or was, with the
    # message), and another task backend (the immediate one in tests) is handed the delivery.
    signals.message_sent.send(sender=Message, message=message, event_published=event_published)
    if task is None:
        transaction.on_commit(lambda: deliver_message.enqueue(message.pk))
    return message


def _accept_and_publish(sql: str, params: list[Any]) -> tuple[tuple[Any, ...] | None, bool]:
    """The statement, then the inbox's event of the message it wrote, in one round trip
    (`inbox.events.run_then_publish_message`); none when the statement wrote nothing.
    (The row; whether the event was written.)"""
    from hiretext.inbox import events

    return events.run_then_publish_message(
        (sql, params), {"direction": Message.Direction.OUTBOUND, "status": Message.Status.QUEUED}
    )
