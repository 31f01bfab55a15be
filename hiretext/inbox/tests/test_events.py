"""The event log: who receives what (decided when sent), resuming, ordering, pruning."""

import json
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from hiretext.inbox import events, services, stream
from hiretext.inbox.models import Event
from hiretext.inbox.tests.conftest import inbound
from hiretext.messaging.models import Conversation
from hiretext.numbers import services as number_services
from tests.threads import held_in_another_transaction

pytestmark = pytest.mark.django_db(transaction=True)


def parse(frames):
    """SSE text -> list of (id or None, event, data dict); comments and retry skipped."""
    found = []
    for block in frames.split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            if not line or line.startswith(":") or line.startswith("retry:"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if "event" in fields:
            found.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return found


def options(user, after=0):
    return stream.Options(user.pk, after, poll=0.01, heartbeat=1, lifetime=1, retry_ms=500)


def publish_on(number, n=1):
    return [
        events.publish(Event.Kind.MESSAGE, number_id=number.pk, conversation_id=9, message_id=i)
        for i in range(n)
    ]


def test_events_reach_only_the_users_on_the_number_now(team):
    number, other, r1, r2, r3 = team
    published = publish_on(number, 2)
    for user in (r1, r2):
        batch = events.pending(user.pk, 0)
        assert [e.pk for e in batch.events] == [e.pk for e in published]
        assert batch.number_id == number.pk
    third = events.pending(r3.pk, 0)
    assert third.events == [] and third.number_id == other.pk


def test_removal_from_the_number_stops_events_at_the_next_read(team, admin):
    number, _, r1, r2, _ = team
    reader = stream.Reader(options(r2))
    reader.read()
    publish_on(number)
    frames, _ = reader.read()
    assert [kind for _, kind, _ in parse(frames)] == ["message"]

    number_services.remove_user(admin, number.seat, r2.pk)
    publish_on(number)
    frames, _ = reader.read()
    # No event of the number any more; the browser learns its bell is empty.
    assert parse(frames) == [(None, "state", {"kind": "state", "unread": 0, "number": False})]
    frames, _ = reader.read()
    assert frames == ""
    assert [kind for _, kind, _ in parse(stream.Reader(options(r1)).read()[0])] == [
        "message",
        "message",
        "state",
    ]


def test_deactivated_user_receives_nothing(team):
    number, _, r1, _, _ = team
    r1.is_active = False
    r1.save()
    publish_on(number)
    assert events.pending(r1.pk, 0).events == []


def test_first_read_sends_the_state_then_only_new_events_once(team, alex, client, immediate):
    number, _, r1, _, _ = team
    inbound(client, "Hi there")
    reader = stream.Reader(options(r1, after=events.latest_id()))
    first = parse(reader.read()[0])
    assert first == [(None, "state", {"kind": "state", "unread": 1, "number": True})]
    assert reader.read()[0] == ""
    inbound(client, "Are you there?", message_id="SIMin2")
    (event,) = parse(reader.read()[0])
    conversation = Conversation.objects.get()
    assert event[1] == "message"
    assert event[2]["conversation_id"] == conversation.pk
    assert event[2]["unread"] == 1 and event[2]["direction"] == "in"
    assert reader.read()[0] == ""


def test_resuming_after_an_id_sends_each_later_event_exactly_once(team):
    number, _, r1, _, _ = team
    ids = [e.pk for e in publish_on(number, 6)]
    reader = stream.Reader(options(r1, after=ids[2]))
    got = [int(i) for i, _, _ in parse(reader.read()[0]) if i]
    assert got == ids[3:]
    more = publish_on(number, 2)
    got += [int(i) for i, _, _ in parse(reader.read()[0]) if i]
    assert got == ids[3:] + [e.pk for e in more]


def test_a_full_batch_asks_for_another_read(team, monkeypatch):
    number, _, r1, _, _ = team
    monkeypatch.setattr(events, "BATCH", 3)
    ids = [e.pk for e in publish_on(number, 7)]
    reader = stream.Reader(options(r1))
    seen = []
    while True:
        frames, more = reader.read()
        seen += [int(i) for i, _, _ in parse(frames) if i]
        if not more:
            break
    assert seen == ids


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("12", 12),
        (" 12 ", 12),
        ("0", 0),
        ("-1", None),
        ("1e3", None),
        ("abc", None),
        ("１２", None),  # full-width digits are digits to Python, not to us
        ("9" * 19, None),  # beyond a 64-bit id
        ("9" * 400, None),
        ("12; DROP TABLE", None),
        (str(2**63 - 1), 2**63 - 1),
    ],
)
def test_last_event_id_parsing(raw, expected):
    assert stream.parse_event_id(raw) == expected


def test_event_ids_are_seen_in_order_under_parallel_writers(team):
    """A reader that polls while 4 threads publish never skips an id (ids commit in order)."""
    number, _, r1, _, _ = team
    published, errors = [], []
    lock = threading.Lock()

    def writer():
        try:
            for _ in range(15):
                event = publish_on(number)[0]
                with lock:
                    published.append(event.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    reader = stream.Reader(options(r1))
    seen = []
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        seen += [int(i) for i, _, _ in parse(reader.read()[0]) if i]
    for t in threads:
        t.join()
    seen += [int(i) for i, _, _ in parse(reader.read()[0]) if i]
    assert not errors
    assert len(published) == 60
    assert seen == sorted(published)


def test_prune_deletes_old_events_only(team, capsys):
    number, *_ = team
    old, new = publish_on(number, 2)
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=49))
    assert services.prune_events() == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [new.pk]
    call_command("prune_events", "--hours", "0")
    assert "Deleted 1 event." in capsys.readouterr().out
    assert not Event.objects.exists()


def test_prune_command_refuses_negative_hours(capsys):
    with pytest.raises(SystemExit):
        call_command("prune_events", "--hours", "-1")
    assert "0 or more" in capsys.readouterr().err


def test_messages_statuses_and_reads_become_events(team, alex, client, immediate, settings):
    """A send, its carrier statuses, a reply and a read each become one event, in order."""
    from hiretext.messaging import services as messaging_services

    number, _, r1, r2, _ = team
    messaging_services.send_message(r1, alex, "Hello Alex")
    inbound(client, "Hello back")
    conversation = Conversation.objects.get()
    services.open_conversation(r2, conversation)
    kinds = list(Event.objects.order_by("id").values_list("kind", "data"))
    assert kinds[0] == ("message", {"direction": "out", "status": "queued"})
    statuses = [d["status"] for k, d in kinds if k == "status"]
    # (the immediate task backend runs the delivery callback inside the send: any order)
    assert sorted(statuses) == ["delivered", "sent"]
    assert ("message", {"direction": "in", "status": "received"}) in kinds
    assert kinds[-1] == ("read", {"unread_conversation": False, "by": "Sam Okafor"})
    assert Event.objects.filter(number=number).count() == len(kinds)
    # Opening it again changes nothing and says nothing.
    services.open_conversation(r1, conversation)
    assert Event.objects.count() == len(kinds)


@pytest.mark.skipif(
    connections["default"].vendor != "postgresql", reason="PostgreSQL's prepared statements"
)
def test_an_event_after_a_rolled_back_transaction_on_the_connection_is_written(team):
    """psycopg deallocates every prepared statement of the connection after a rollback; the
    next event prepares its statement again."""
    from django.db import transaction

    from hiretext.lib import prepared

    number = team[0]
    first = publish_on(number)[0]
    prepared.fetchone("SELECT id FROM inbox_event WHERE id = %s", [0])  # psycopg's own
    with pytest.raises(RuntimeError), transaction.atomic():
        Event.objects.filter(pk=first.pk).update(kind=Event.Kind.READ)
        raise RuntimeError("a request that fails inside its transaction")
    later = publish_on(number, 2)
    assert [e.pk > first.pk for e in later] == [True, True]
    assert Event.objects.filter(number_id=number.pk).count() == 3
    assert Event.objects.get(pk=first.pk).kind == Event.Kind.MESSAGE


def _waiting_for_the_event_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND objid = %s",
            [events.EVENT_LOCK & 0xFFFFFFFF],
        )
        return cursor.fetchone()[0] > 0


def _last_event_id() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Event._meta.db_table])
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT last_value FROM {sequence}")  # noqa: S608 - the server's name
        return int(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's ordering lock")
@pytest.mark.parametrize("writer", ["publish", "reply"])
def test_an_event_draws_its_id_only_once_it_holds_the_ordering_lock(team, client, alex, writer):
    """Ids become visible in the order they were drawn only if each is drawn under the lock:
    while another transaction holds it, a writer waits without having taken an id (a plain
    event, and a reply's event written in the round trip that stores the reply)."""
    number = team[0]
    assert inbound(client, "Hello", message_id="SIMfirst").status_code == 200
    publish_on(number)
    written = []

    def write():
        try:
            if writer == "publish":
                written.append(publish_on(number)[0].pk)
            else:
                assert inbound(client, "Later", message_id="SIMlater").status_code == 200
                written.append(Event.objects.get(id__gt=before).pk)
        finally:
            connections.close_all()

    writing = threading.Thread(target=write)
    try:
        with held_in_another_transaction(("SELECT pg_advisory_xact_lock(%s)", [events.EVENT_LOCK])):
            before = _last_event_id()
            writing.start()
            for _ in range(500):
                if _waiting_for_the_event_lock():
                    break
                threading.Event().wait(0.01)
            assert _waiting_for_the_event_lock()
            assert _last_event_id() == before  # waiting, and no id drawn yet
    finally:
        if writing.ident is not None:  # started: it goes on once the lock is released
            writing.join()
    assert written == [before + 1]


def test_a_streams_read_is_three_statements_and_keeps_each_events_data(
    team, django_assert_num_queries
):
    number, other, r1, _, r3 = team
    assert events.latest_id() == 0 and events.events_after(0) == []
    data = {"direction": "in", "status": "received", "note": "<b>é</b> 👍"}
    published = events.publish(
        Event.Kind.MESSAGE, number_id=number.pk, conversation_id=9, message_id=4, data=data
    )
    with django_assert_num_queries(3):  # the number, its events, its unread count
        batch = events.pending(r1.pk, 0)
    (event,) = batch.events
    assert (event.pk, event.number_id, event.conversation_id, event.message_id) == (
        published.pk,
        number.pk,
        9,
        4,
    )
    assert event.data == data and event.kind == "message" and event.created_at is not None
    assert batch.unread == events.unread_count(number.pk) == 0
    assert events.current_number_id(r3.pk) == other.pk
    assert events.events_after(0) == [(published.pk, number.pk)]
    assert events.events_after(published.pk) == []
    assert events.latest_id() == published.pk
