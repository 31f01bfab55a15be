"""Writing events, and reading the ones a user may receive now.

Ids must become visible in the order they were given out, or a stream that has read id 11
would never see a slower transaction's id 10. On SQLite, the single writer does that: an
event joins the transaction of the change it describes. On PostgreSQL an advisory lock
orders the writers; the event is written right after the change commits, in a short
transaction of its own that also sends the NOTIFY (delivered on commit). With Redis the
message is published once the row is committed.
"""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from hiretext.inbox.models import Event
from hiretext.lib import loaded, prepared, rows
from hiretext.messaging.models import Conversation, Message
from hiretext.numbers.models import PhoneNumber

log = logging.getLogger(__name__)

CHANNEL = "hiretext_events"  # PostgreSQL NOTIFY channel and Redis pub/sub channel
EVENT_LOCK = 7_243_118_001  # pg_advisory_xact_lock key that orders event inserts
BATCH = 200  # events sent per read; a stream reads again at once when a batch is full


def backend_name() -> str:
    """Which fan-out this deployment uses: "redis", "postgres" or "poll"."""
    configured = getattr(settings, "HIRETEXT_EVENTS_BACKEND", "")
    if configured in {"redis", "postgres", "poll"}:
        return str(configured)
    if getattr(settings, "REDIS_URL", ""):
        return "redis"
    if connection.vendor == "postgresql":
        return "postgres"
    return "poll"


def publish(
    kind: str,
    *,
    number_id: int,
    conversation_id: int,
    message_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Store an event and wake the streams of every process; returns it (with its id).

    SQLite has one writer, so an event written inside the caller's transaction gets its
    id and commits under the same lock: it simply joins that transaction. On PostgreSQL an
    advisory lock orders the writers; outside a transaction the event gets its own
    (`_write_ordered`), inside one a savepoint whose lock lasts to the caller's commit, which
    is why hot paths use `publish_after_commit`.
    """
    fields = _fields(kind, number_id, conversation_id, message_id, data)
    return Event(pk=_write(fields), **fields)


def _fields(
    kind: str,
    number_id: int,
    conversation_id: int,
    message_id: int | None,
    data: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "number_id": number_id,
        "conversation_id": conversation_id,
        "message_id": message_id,
        "kind": kind,
        "data": data or {},
        "created_at": timezone.now(),
    }


def _write(fields: dict[str, Any]) -> int:
    backend = backend_name()
    number_id = fields["number_id"]
    if connection.vendor != "postgresql":
        event_id = rows.insert(Event, fields, suffix="RETURNING id")
    elif not connection.in_atomic_block:
        event_id = _write_ordered(fields, notify=backend == "postgres")
    else:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_LOCK])
            event_id = rows.insert(Event, fields, suffix="RETURNING id")
            if backend == "postgres":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, f"{event_id}:{number_id}"])
    if backend == "redis":
        payload = f"{event_id}:{number_id}"
        transaction.on_commit(lambda: _redis_publish(payload))
    return int(event_id)


def publish_after_commit(
    kind: str,
    *,
    number_id: int,
    conversation_id: int,
    message_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """`publish`, as cheaply as the database allows for a change in an open transaction.

    SQLite: now, in that transaction (no second write-lock wait, nothing to lose between two
    commits). PostgreSQL: right after it commits, so the ordering lock is never held while
    the caller's commit waits for its WAL flush (that would serialise every writer's commit).
    """
    write = partial(_write, _fields(kind, number_id, conversation_id, message_id, data))
    if connection.vendor == "postgresql":
        transaction.on_commit(write, robust=True)  # the change stands if this fails
    else:
        write()


# The event's own transaction: the lock orders the writers; the commit does not wait for the
# WAL flush, so the lock is held for microseconds (`_write_ordered`). A CTE of the event's
# statement: the INSERT selects from it, so the lock is taken before the id is drawn.
_ORDERED = "o AS (SELECT set_config('synchronous_commit', 'off', true), pg_advisory_xact_lock(%s))"


def _event_sql(computed: dict[str, str], source: str, notify: bool) -> str:
    """The statement of an event's transaction: take the lock (its first parameter), insert
    the event (`rows.insert_select` over `source`, or a plain row without one), return
    (NOTIFY's result or the channel, the event's id, its number); NOTIFY the streams if
    `notify`. The channel is the last parameter."""
    return _event_statement(tuple(computed.items()), source, notify)


@cache
def _event_statement(computed: tuple[tuple[str, str], ...], source: str, notify: bool) -> str:
    insert = rows.insert_select(Event, dict(computed), f"o, {source}" if source else "o")
    returned = (
        "pg_notify(%s::text, e.id::text || ':' || e.number_id::text)" if notify else "%s::text"
    )
    inserted = f"e AS ({insert} RETURNING id, number_id)"
    return f"WITH {_ORDERED}, {inserted} SELECT {returned}, e.id, e.number_id FROM e"  # noqa: S608


def _event_values(
    fields: dict[str, Any],
    computed: dict[str, str] | None = None,
    source_params: Sequence[Any] = (),
) -> list[Any]:
    """The parameters of `_event_sql`, in its order: the lock's key, the event's values (none
    for its `computed` columns), the source's, the channel."""
    return [
        EVENT_LOCK,
        *rows.params(Event, fields, computed=computed or {}),
        *source_params,
        CHANNEL,
    ]


def _write_ordered(fields: dict[str, Any], *, notify: bool) -> int:
    """Insert an event in its own PostgreSQL transaction, in one round trip.

    The advisory lock makes ids visible in the order they were given out. The commit does
    not wait for the WAL flush (`synchronous_commit` off), so the lock is held for
    microseconds; a database crash can lose the last few events, which costs a live update
    (streams resume from the log on reload), never a message. NOTIFY is delivered on commit.
    """
    (outcome,) = prepared.pipeline([(_event_sql({}, "", notify), _event_values(fields))])
    written = outcome.first_row()
    if written is None:
        raise RuntimeError("The event insert returned no id.")
    return int(written[1])


def run_then_publish(
    statements: Sequence[tuple[str, list[Any]]],
    kind: str,
    computed: dict[str, str],
    source: str,
    source_params: list[Any],
    data: dict[str, Any],
) -> tuple[tuple[Any, ...] | None, int | None]:
    """PostgreSQL, outside a transaction: run `statements` (SQL and parameters each) in a
    transaction of their own, then write the event their rows describe as `_write_ordered`
    does, in one round trip instead of two (`prepared.pipeline`).

    The event's row is `INSERT … SELECT` from `source` (SQL over the committed rows, its
    `%s` taking `source_params`), with `computed` columns (attname: expression) and `kind`,
    `data` and the time as values; a `source` that finds nothing writes no event. Returns
    the last statement's first row and the event's id: None when none was written, or when
    the event failed after the statements committed (logged; the caller's listeners write
    it). The statements' own failure is raised.
    """
    fields = {"kind": kind, "data": data, "created_at": timezone.now()}
    backend = backend_name()
    insert = _event_sql(computed, source, backend == "postgres")
    event_values = _event_values(fields, computed, source_params)
    first, event = prepared.pipeline(statements, [(insert, event_values)])
    row = first.first_row()
    if event.error is not None:
        log.warning("A change committed; its inbox event failed", exc_info=event.error)
        return row, None
    written = event.first_row()
    if written is None:
        return row, None
    event_id, number_id = int(written[1]), int(written[2])
    if backend == "redis":
        _redis_publish(f"{event_id}:{number_id}")
    return row, event_id


# The message a statement wrote, handed to its event's transaction in the same round trip
# through a setting of the database session: the event reads the message by its primary
# key. (Found by other columns, the planner was free to pick another index, and did: with
# no statistics yet, it walked every message of the sender on each send.)
_WRITTEN_MESSAGE = "hiretext.written_message"
_FORGET_WRITTEN_MESSAGE = f"SELECT set_config('{_WRITTEN_MESSAGE}', '', false)"


def record_written_message(message_id: str) -> str:
    """A SQL expression a statement for `run_then_publish_message` evaluates once for the
    message it wrote (`message_id`, SQL, e.g. `m.id`): the event is that message's."""
    return f"set_config('{_WRITTEN_MESSAGE}', ({message_id})::text, false)"


def run_then_publish_message(
    statement: tuple[str, list[Any]], data: dict[str, Any]
) -> tuple[tuple[Any, ...] | None, bool]:
    """`run_then_publish` for a statement that writes at most one message and records it
    (`record_written_message`): that message's `message` event, none when the statement
    wrote nothing. (The statement's first row; whether the event was written.)"""
    row, event_id = run_then_publish(
        [(_FORGET_WRITTEN_MESSAGE, []), statement],
        Event.Kind.MESSAGE,
        _MESSAGE_EVENT,
        written_message_source(),
        [],
        data,
    )
    return row, event_id is not None


@cache
def written_message_source() -> str:
    """SQL (a FROM clause) of the recorded message `m` and its conversation `c`."""
    quote = connection.ops.quote_name
    return (
        f"{quote(Message._meta.db_table)} m "
        f"JOIN {quote(Conversation._meta.db_table)} c ON c.id = m.conversation_id "
        f"WHERE m.id = NULLIF(current_setting('{_WRITTEN_MESSAGE}', true), '')::bigint"
    )


_MESSAGE_EVENT = {
    "number_id": "c.number_id",
    "conversation_id": "m.conversation_id",
    "message_id": "m.id",
}


def _redis_publish(payload: str) -> None:
    import redis

    try:
        _redis(settings.REDIS_URL).publish(CHANNEL, payload)
    except redis.RedisError:
        # The row is stored: streams catch up at their next heartbeat read.
        log.warning("Could not publish inbox event %s to Redis", payload, exc_info=True)


@cache
def _redis(url: str) -> Any:
    """The process's client: its pool keeps a connection between events (a client per event
    connected and disconnected each time), and never waits long on a Redis that hangs."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


# The reads below run on every page's bell and on every read of every live stream: each is
# one prepared SELECT (`hiretext.lib.prepared`), not an ORM query built, and on PostgreSQL
# planned, each time.


def latest_id() -> int:
    row = prepared.fetchone(_sql("SELECT max(e.id) FROM {event} e"), [])
    return int(row[0]) if row is not None and row[0] is not None else 0


@cache
def _sql(template: str) -> str:
    """`template` with its tables named: {event}, {conversation}, and {event_columns} for
    `loaded.build(Event, …)`."""
    quote = connection.ops.quote_name
    return template.format(
        event=quote(Event._meta.db_table),
        conversation=quote(Conversation._meta.db_table),
        event_columns=loaded.columns(Event, "e"),
    )


def events_after(after_id: int, limit: int = 1000) -> list[tuple[int, int]]:
    """(id, number_id) of events after `after_id`: what the polling hub wakes streams with."""
    found = prepared.fetchall(
        _sql("SELECT e.id, e.number_id FROM {event} e WHERE e.id > %s ORDER BY e.id LIMIT %s"),
        [after_id, limit],
    )
    return [(int(event_id), int(number_id)) for event_id, number_id in found]


# --- what one user may receive ---------------------------------------------------------------


def current_number_id(user_id: int) -> int | None:
    """The active number the user is on now, while the user is active (read live: a
    removal or a deactivation takes effect at once)."""
    from hiretext.numbers.queries import user_number_sql

    row = prepared.fetchone(
        user_number_sql("n.id", active_user=True), [PhoneNumber.Status.ACTIVE.value, user_id]
    )
    return int(row[0]) if row is not None else None


def unread_count(number_id: int | None) -> int:
    """Unread conversations on the number (the bell's figure); `WHERE unread` is the
    partial index's own condition."""
    if number_id is None:
        return 0
    row = prepared.fetchone(
        _sql(
            "SELECT count(*) FROM {conversation} c "
            "WHERE c.number_id = %s AND c.unread AND c.last_message_at IS NOT NULL"
        ),
        [number_id],
    )
    return int(row[0]) if row is not None else 0


@dataclass(frozen=True)
class Batch:
    """What a stream sends next: events of the user's number after its cursor, and state."""

    number_id: int | None
    events: list[Event]
    unread: int
    full: bool  # more events may be waiting: read again at once

    @property
    def last_id(self) -> int | None:
        return self.events[-1].pk if self.events else None


def pending(user_id: int, after_id: int) -> Batch:
    """Events after `after_id` for the number `user_id` is on *now*, and its unread count.

    Two queries, three when there are events (the count is read only when sending).
    """
    number_id = current_number_id(user_id)
    events: list[Event] = []
    if number_id is not None:
        rows_found = prepared.fetchall(
            _sql(
                "SELECT {event_columns} FROM {event} e "
                "WHERE e.number_id = %s AND e.id > %s ORDER BY e.id LIMIT %s"
            ),
            [number_id, after_id, BATCH],
        )
        events = [event for row in rows_found if (event := loaded.build(Event, row)) is not None]
    unread = unread_count(number_id) if events else 0
    return Batch(number_id=number_id, events=events, unread=unread, full=len(events) == BATCH)


def frame(event: Event, unread: int) -> str:
    """One Server-Sent Event; the data is JSON (never HTML: the page renders it itself)."""
    data = {
        **event.data,
        "kind": event.kind,
        "conversation_id": event.conversation_id,
        "message_id": event.message_id,
        "unread": unread,
    }
    return f"id: {event.pk}\nevent: {event.kind}\ndata: {json.dumps(data)}\n\n"


def state_frame(unread: int, number_id: int | None) -> str:
    """The user's current state, with no id (it is not part of the resumable log)."""
    data = json.dumps({"kind": "state", "unread": unread, "number": number_id is not None})
    return f"event: state\ndata: {data}\n\n"
