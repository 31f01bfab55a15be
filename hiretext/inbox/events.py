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
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from hiretext.inbox.models import Event
from hiretext.lib import prepared, rows
from hiretext.messaging.models import Conversation
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
# WAL flush, so the lock is held for microseconds (`_write_ordered`).
_ORDERED = (
    "BEGIN; SET LOCAL synchronous_commit TO OFF; SELECT pg_advisory_xact_lock(%s); {event}; COMMIT"
)


def _event_statement(cursor: Any, name: str, insert: str, notify: bool) -> str:
    """`EXECUTE` of `insert` (an INSERT of an event, its last parameter the channel) that
    returns (NOTIFY's result or the channel, the event's id, its number), prepared once per
    connection; it NOTIFYs the streams when `notify`."""
    returned = (
        "pg_notify(%s::text, e.id::text || ':' || e.number_id::text)" if notify else "%s::text"
    )
    sql = (
        f"WITH e AS ({insert} RETURNING id, number_id) SELECT {returned}, e.id, e.number_id FROM e"  # noqa: S608 - our own SQL
    )
    name = f"{name}_notify" if notify else name
    return prepared.statement(cursor, name, sql, sql.count("%s"))


def _write_ordered(fields: dict[str, Any], *, notify: bool) -> int:
    """Insert an event in its own PostgreSQL transaction, in one round trip.

    The advisory lock makes ids visible in the order they were given out. The commit does
    not wait for the WAL flush (`synchronous_commit` off), so the lock is held for
    microseconds; a database crash can lose the last few events, which costs a live update
    (streams resume from the log on reload), never a message. NOTIFY is delivered on commit.
    """
    values = [*rows.params(Event, fields), CHANNEL]
    with connection.cursor() as cursor:

        def script() -> tuple[str, list[Any]]:
            event = _event_statement(cursor, "hx_event", rows.insert_statement(Event), notify)
            return _ORDERED.format(event=event), [EVENT_LOCK, *values]

        try:
            prepared.execute_script(cursor, script)
            event_id = None
            while True:  # BEGIN, SET, the lock, the insert (id here), COMMIT
                if prepared.columns_returned(cursor) == 3:
                    event_id = cursor.fetchone()[1]
                if not cursor.nextset():
                    break
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
    if event_id is None:
        raise RuntimeError("The event insert returned no id.")
    return int(event_id)


def run_then_publish(
    statement: tuple[str, str, list[Any]],
    kind: str,
    computed: dict[str, str],
    source: str,
    source_params: list[Any],
    data: dict[str, Any],
) -> tuple[tuple[Any, ...] | None, int | None]:
    """PostgreSQL, outside a transaction: run `statement` (name, SQL, parameters: one
    statement, prepared once per connection) in autocommit, then write the event its rows
    describe as `_write_ordered` does, in one round trip instead of two.

    The event's row is `INSERT … SELECT` from `source` (SQL over the committed rows, its
    `%s` taking `source_params`), with `computed` columns (attname: expression) and `kind`,
    `data` and the time as values; a `source` that finds nothing writes no event. Returns
    the statement's first row and the event's id (None when none was written). A failure
    is raised once the event's transaction is rolled back; the statement may have
    committed before it, which the caller checks.
    """
    name, sql, params = statement
    fields = {"kind": kind, "data": data, "created_at": timezone.now()}
    event_values = [*rows.params(Event, fields, computed=computed), *source_params, CHANNEL]
    insert = rows.insert_select(Event, computed, source)
    notify = backend_name() == "postgres"
    with connection.cursor() as cursor:

        def script() -> tuple[str, list[Any]]:
            first = prepared.statement(cursor, name, sql, len(params))
            event = _event_statement(cursor, f"{name}_event", insert, notify)
            # An explicit BEGIN: a COMMIT that ends the query string's implicit transaction
            # makes the server log and send a warning on every call.
            ordered = _ORDERED.format(event=event)
            return f"BEGIN; {first}; COMMIT; {ordered}", [*params, EVENT_LOCK, *event_values]

        try:
            prepared.execute_script(cursor, script)
        except BaseException:
            cursor.execute("ROLLBACK")  # the event's transaction, if it was open
            raise
        cursor.nextset()  # past the BEGIN, to the statement's rows
        row = cursor.fetchone() if prepared.columns_returned(cursor) is not None else None
        event_id = number_id = None
        for _ in range(5):  # COMMIT, BEGIN, SET, the lock, the event (its row, if written)
            cursor.nextset()
        if prepared.columns_returned(cursor) is not None:
            written = cursor.fetchone()
            if written is not None:
                event_id, number_id = int(written[1]), int(written[2])
    if event_id is not None and backend_name() == "redis":
        _redis_publish(f"{event_id}:{number_id}")
    return row, event_id


def _redis_publish(payload: str) -> None:
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            client.publish(CHANNEL, payload)
        finally:
            client.close()
    except redis.RedisError:
        # The row is stored: streams catch up at their next heartbeat read.
        log.warning("Could not publish inbox event %s to Redis", payload, exc_info=True)


def latest_id() -> int:
    return Event.objects.aggregate(latest=Max("id"))["latest"] or 0


def events_after(after_id: int, limit: int = 1000) -> list[tuple[int, int]]:
    """(id, number_id) of events after `after_id`: what the polling hub wakes streams with."""
    return list(
        Event.objects.filter(id__gt=after_id).order_by("id").values_list("id", "number_id")[:limit]
    )


# --- what one user may receive ---------------------------------------------------------------


def current_number_id(user_id: int) -> int | None:
    """The active number the user is on now (read live: removal takes effect at once)."""
    return (
        PhoneNumber.objects.filter(
            status=PhoneNumber.Status.ACTIVE,
            seat__assignments__user_id=user_id,
            seat__assignments__user__is_active=True,
        )
        .values_list("id", flat=True)
        .first()
    )


def unread_count(number_id: int | None) -> int:
    if number_id is None:
        return 0
    return Conversation.objects.filter(
        number_id=number_id, unread=True, last_message_at__isnull=False
    ).count()


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
        events = list(
            Event.objects.filter(number_id=number_id, id__gt=after_id).order_by("id")[:BATCH]
        )
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
