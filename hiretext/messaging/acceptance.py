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

A text to a candidate through the API reads its candidate and route in that same
statement (`accept_with_route`): the text is accepted in one round trip when nothing
refuses it, the rest of the refusals' conditions repeated in SQL; when anything does, the
statement only reads, and `send_message` goes on with what it read.
"""

import dataclasses
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hiretext.accounts.models import User
from hiretext.ats.models import ActivityEntry, Candidate
from hiretext.lib import loaded, prepared, rows
from hiretext.lib import tasks as task_queue
from hiretext.messaging import signals
from hiretext.messaging.models import Conversation, Message
from hiretext.numbers.allowance import period_in
from hiretext.numbers.models import MonthlyUsage

if TYPE_CHECKING:
    from hiretext.messaging.services import Draft, Person, RouteRead, _Request, _Route

# The timeline line repeats the message's text and time: taken from the inserted row, not
# sent twice.
_ENTRY_FROM_MESSAGE = {"ref_id": "m.id", "body": "m.body", "created_at": "m.created_at"}
_TASK_FROM_MESSAGE = {
    "args_kwargs": "jsonb_build_object('args', jsonb_build_array(m.id), 'kwargs', '{}'::jsonb)"
}
# `accept_with_route`: what the statement's own read (`ok`, below) gives the rows.
_MESSAGE_FROM_ROUTE = {
    "organization_id": "ok.organization_id",
    "conversation_id": "ok.conversation_id",
    "carrier": "ok.carrier",
    "allowance_period": "ok.period",
}
_ENTRY_FROM_ROUTE = {
    "candidate_id": "ok.candidate_id",
    "organization_id": "ok.organization_id",
    "summary": "ok.summary",
}
# A North American mobile, as `lib.phones.format_phone` spaces it without parsing; any
# other number is left to the general path, which formats it with the library.
_NANP = r"^\+1[2-9][0-9]{2}[2-9][0-9]{2}[0-9]{4}$"
_NANP_SPACED = (
    "'+1 ' || substr(who.mobile, 3, 3) || ' ' || substr(who.mobile, 6, 3) || ' ' "
    "|| substr(who.mobile, 9, 4)"
)


def _read_with_route() -> list[str]:
    """`accept_with_route`'s reads: the candidate (`who`), the route (`r`, as
    `services._ROUTE`) and, when nothing refuses the text, what the writes take (`ok`).

    Parameters: the candidate's id; the actor, the key and the actor again (the route);
    the period, the actor's name (the timeline line), the time zone the period was
    computed in, the actor's organisation and the text's segments (`ok`)."""
    from hiretext.messaging.services import _route_statement

    route = _route_statement("candidate_id", "who.organization_id", "who.mobile", "who.id")
    candidate = f"SELECT {loaded.columns(Candidate, 'p')} FROM ats_candidate p WHERE p.id = %s"  # noqa: S608
    summary = f"left('SMS to ' || {_NANP_SPACED} || ' (' || %s::text || ')', 300)"
    sendable = (
        "r.time_zone = %s AND who.organization_id = %s AND r.conversation_id IS NOT NULL "
        "AND r.earlier_id IS NULL AND NOT r.opted_out AND NOT who.sms_opted_out "
        f"AND who.sms_consent AND who.mobile ~ '{_NANP}' AND %s <= r.monthly_allowance"
    )
    taken = (
        "r.number_id, r.organization_id, r.conversation_id, r.carrier, r.monthly_allowance, "
        f"%s::date AS period, who.id AS candidate_id, {summary} AS summary"
    )
    return [
        f"who AS ({candidate})",
        f"r AS (SELECT x.* FROM who, LATERAL ({route}) x)",  # noqa: S608 - SQL of our own
        f"ok AS (SELECT {taken} FROM who, r WHERE {sendable})",  # noqa: S608 - SQL of our own
    ]


@cache
def _statement(with_task: bool, with_route: bool = False) -> str:
    """The text's statement: `accept_in_one_statement`'s, or with its reads in front
    (`with_route`, `accept_with_route`), the rows then taking the route from them."""
    from hiretext.inbox.events import record_written_message

    quote = connection.ops.quote_name
    usage = quote(MonthlyUsage._meta.db_table)
    conversation = quote(Conversation._meta.db_table)
    if with_route:
        parts = _read_with_route()
        usage_row, source = "SELECT ok.number_id, ok.period, %s FROM ok", ", ok"
        limit = "(SELECT ok.monthly_allowance FROM ok)"
        message, entry, where = _MESSAGE_FROM_ROUTE, _ENTRY_FROM_ROUTE, "ok.conversation_id"
    else:
        parts, usage_row, source, limit = [], "VALUES (%s, %s, %s)", "", "%s"
        message, entry, where = {}, {}, "%s"
    parts += [
        f"u AS (INSERT INTO {usage} (number_id, period, used) {usage_row} "  # noqa: S608
        f"ON CONFLICT (number_id, period) DO UPDATE SET used = {usage}.used + EXCLUDED.used "
        f"WHERE {usage}.used + EXCLUDED.used <= {limit} RETURNING used)",
        f"m AS ({rows.insert_select(Message, message, 'u' + source)} "
        "RETURNING id, body, created_at)",
        f"c AS (UPDATE {conversation} SET last_message_at = m.created_at FROM m{source} "  # noqa: S608
        f"WHERE {conversation}.id = {where})",
        f"a AS ({rows.insert_select(ActivityEntry, entry | _ENTRY_FROM_MESSAGE, 'm' + source)})",
    ]
    if with_task:
        parts.append(f"t AS ({rows.insert_select(DBTaskResult, _TASK_FROM_MESSAGE, 'm')})")
    written = record_written_message("m.id")
    if with_route:
        return (
            f"WITH {', '.join(parts)} SELECT who.*, r.*, m.id, {written} "  # noqa: S608
            "FROM who LEFT JOIN r ON true LEFT JOIN m ON true"
        )
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
    fields = _message_fields(request, actor, now) | _route_fields(route, period)
    entry = {
        "candidate_id": person.pk if isinstance(person, Candidate) else None,
        "contact_id": None if isinstance(person, Candidate) else person.pk,
        "organization_id": person.organization_id,
        "summary": f"SMS to {person.mobile_display} ({actor.display_name})"[:300],
    }
    task = task_queue.row_values(deliver_message, 0)
    params = [route.number_id, period, request.segments, route.monthly_allowance]
    params += rows.params(Message, fields)
    params += [route.conversation_id, *_line_and_task(actor, entry, task, {})]
    row, event_published = _run(_statement(task is not None), params)
    if row is None:
        return None
    written = fields | {"id": row[0]}
    return _accepted(written, route, person, actor, now, event_published, queued=task is not None)


def accept_with_route(
    actor: User, candidate_id: int, draft: "Draft"
) -> "tuple[Candidate, RouteRead] | None":
    """`services.candidate_and_route`, and in the same statement the text `draft`, accepted
    as `accept_in_one_statement` would: when nothing refuses it, the candidate already has
    a conversation on the sender's number, the allowance pays for all of it and the
    candidate's mobile is North American (the timeline line spaces it in SQL). Otherwise
    nothing is written and `send_message` goes on with the route read (one round trip
    more, as before). None: no such candidate in the actor's organisation.
    IntegrityError: as `accept_in_one_statement`, when no parallel send with the same key
    explains it."""
    from hiretext.messaging.services import RouteRead, _Route, _route_in, candidate_and_route
    from hiretext.messaging.tasks import deliver_message

    organization = actor.organization if User.organization.is_cached(actor) else None
    if organization is None:  # a token's user comes with it; not every user does
        return candidate_and_route(actor, candidate_id, draft.idempotency_key)
    now = timezone.now()
    period = period_in(organization.time_zone, now)
    fields = _message_fields(draft, actor, now)
    task = task_queue.row_values(deliver_message, 0)
    params = [candidate_id, actor.pk, draft.idempotency_key, actor.pk, period]
    params += [actor.display_name, organization.time_zone, actor.organization_id]
    params += [draft.segments, draft.segments]
    params += rows.params(Message, fields, computed=_MESSAGE_FROM_ROUTE)
    params += _line_and_task(actor, {}, task, _ENTRY_FROM_ROUTE)
    try:
        row, event_published = _run(_statement(task is not None, with_route=True), params)
    except IntegrityError:
        # A parallel request with the same key won (nothing written): read again, the route
        # names its message, which `send_message` answers with.
        found = candidate_and_route(actor, candidate_id, draft.idempotency_key)
        if found is None or found[1].route is None or found[1].route.earlier_id is None:
            raise
        return found
    candidate = loaded.build(Candidate, row) if row is not None else None
    if row is None or candidate is None or candidate.organization_id != actor.organization_id:
        return None
    width = loaded.width(Candidate)
    after_route = width + len(dataclasses.fields(_Route))  # `services._ROUTE`: a column per field
    route = _route_in(row[width:after_route])
    message_id = row[after_route]
    if route is None or message_id is None:
        return candidate, RouteRead(route, draft.idempotency_key)
    fields |= {"id": message_id} | _route_fields(route, period)
    message = _accepted(
        fields, route, candidate, actor, now, event_published, queued=task is not None
    )
    return candidate, RouteRead(route, draft.idempotency_key, message)


def _message_fields(text: "Draft | _Request", actor: User, now: datetime) -> dict[str, Any]:
    """The message's own values, without its route's."""
    return {
        "direction": Message.Direction.OUTBOUND,
        "channel": Message.Channel.SMS,
        "body": text.text,
        "segments": text.segments,
        "encoding": text.encoding,
        "status": Message.Status.QUEUED,
        "category": text.category,
        "sender_id": actor.pk,
        "idempotency_key": text.idempotency_key,
        "allowance_units": text.segments,
        "created_at": now,
        "updated_at": now,
    }


def _route_fields(route: "_Route", period: date) -> dict[str, Any]:
    """The message's values that its route gives (`_MESSAGE_FROM_ROUTE` in SQL)."""
    return {
        "organization_id": route.organization_id,
        "conversation_id": route.conversation_id,
        "carrier": route.carrier,
        "allowance_period": period,
    }


def _line_and_task(
    actor: User, entry: dict[str, Any], task: dict[str, Any] | None, computed: dict[str, str]
) -> list[Any]:
    """The parameters of the timeline line's row (`computed` columns aside) and the task's."""
    line = entry | {"kind": ActivityEntry.Kind.SMS_OUT, "actor_id": actor.pk}
    out = rows.params(ActivityEntry, line, computed=computed | _ENTRY_FROM_MESSAGE)
    if task is not None:
        out += rows.params(DBTaskResult, task, computed=_TASK_FROM_MESSAGE)
    return out


def _run(sql: str, params: list[Any]) -> tuple[tuple[Any, ...] | None, bool]:
    """The statement's first row, and whether the inbox's event of its message was written
    in the same round trip."""
    if connection.in_atomic_block:  # a caller's transaction: a failure must not break it
        with transaction.atomic():
            return prepared.fetchone(sql, params), False
    if signals.message_sent.has_listeners(Message):
        return _accept_and_publish(sql, params)
    return prepared.fetchone(sql, params), False


def _accepted(
    values: dict[str, Any],
    route: "_Route",
    person: "Person",
    actor: User,
    now: datetime,
    event_published: bool,
    *,
    queued: bool,
) -> Message:
    """The message the statement wrote, announced; handed to the worker here unless the
    statement `queued` it."""
    from hiretext.messaging.tasks import deliver_message

    message = loaded.written(Message, values)
    conversation = route.known_conversation(person)
    conversation.last_message_at = now
    message.conversation = conversation
    message.sender = actor
    # Committed already (autocommit): the inbox's event is written now (or was, with the
    # message), and another task backend (the immediate one in tests) is handed the delivery.
    signals.message_sent.send(sender=Message, message=message, event_published=event_published)
    if not queued:
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
