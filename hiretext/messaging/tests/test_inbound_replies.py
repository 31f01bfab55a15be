"""The inbound hot path: a reply in an existing conversation, written without the ORM."""

import threading

import pytest
from django.db import connection, connections
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hiretext.ats.models import ActivityEntry, Candidate
from hiretext.carriers.base import InboundSms
from hiretext.inbox.models import Event, ReplyNotice
from hiretext.inbox.tasks import notify_reply
from hiretext.lib import tasks as task_queue
from hiretext.messaging.inbound import record_inbound
from hiretext.messaging.models import Conversation, Message
from hiretext.messaging.tests.conftest import ALEX, inbound, make_candidate
from tests.threads import held_in_another_transaction, run_threads

pytestmark = pytest.mark.django_db


@pytest.fixture
def talking(client, alex, number, django_capture_on_commit_callbacks):
    """Alex has written once (the general path opened the conversation)."""
    with django_capture_on_commit_callbacks(execute=True):
        assert inbound(client, "Hi", message_id="SIMfirst").status_code == 200
    return Conversation.objects.get()


@pytest.mark.django_db(transaction=True)  # real commits: the PostgreSQL event follows one
def test_reply_is_stored_with_its_timeline_event_and_notice_in_few_statements(
    client, talking, number, django_capture_on_commit_callbacks
):
    Conversation.objects.filter(pk=talking.pk).update(unread=False)
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = inbound(client, "Yes, <b>10am</b> works", message_id="SIMreply")
    assert response.status_code == 200 and response.json() == {"received": 1, "stored": 1}
    # route, begin, message, conversation, timeline, notice, commit (+ the event, in the
    # transaction on SQLite or in its own round trip on PostgreSQL)
    # (PREPAREs, once per PostgreSQL connection, are not counted)
    executed = [q["sql"] for q in queries if not q["sql"].startswith("PREPARE")]
    assert len(executed) <= 8, [sql[:60] for sql in executed]
    message = Message.objects.get(external_id="SIMreply")
    assert (message.conversation_id, message.direction, message.status, message.body) == (
        talking.pk,
        "in",
        "received",
        "Yes, <b>10am</b> works",
    )
    assert (message.segments, message.encoding) == (1, "GSM-7")
    talking.refresh_from_db()
    assert talking.unread and talking.last_message_at == message.created_at
    # ref_id is the message's id for SMS entries (a consent entry's is its event's id)
    entry = ActivityEntry.objects.get(ref_id=message.pk, kind__startswith="sms")
    assert (entry.candidate_id, entry.kind, entry.summary, entry.body) == (
        talking.candidate_id,
        ActivityEntry.Kind.SMS_IN,
        "SMS from +1 415 555 0123",
        message.body,
    )
    event = Event.objects.get(message_id=message.pk)
    assert (event.number_id, event.conversation_id, event.kind, event.data) == (
        number.pk,
        talking.pk,
        "message",
        {"direction": "in", "status": "received"},
    )
    # Its reply e-mails are left to the worker's notifier, and no task is queued for them.
    assert list(ReplyNotice.objects.values_list("message_id", flat=True)) == [
        talking.messages.order_by("id").first().pk,
        message.pk,
    ]
    assert not DBTaskResult.objects.exists()


def test_redelivered_reply_stores_nothing_more(client, talking):
    for _ in range(3):
        assert inbound(client, "Same", message_id="SIMtwice").status_code == 200
    assert Message.objects.filter(external_id="SIMtwice").count() == 1
    assert ActivityEntry.objects.filter(body="Same").count() == 1
    assert ReplyNotice.objects.count() == 2  # the first message's and this one's


def test_person_who_changed_mobile_is_not_matched_by_the_old_conversation(
    client, org, recruiter, talking
):
    """The general path decides: the phone now belongs to somebody else."""
    Candidate.objects.filter(pk=talking.candidate_id).update(mobile="+14155550199")
    newcomer = make_candidate(org, recruiter, mobile=ALEX, first="Robin", last="Newman")
    assert inbound(client, "It's Robin now", message_id="SIMrobin").status_code == 200
    message = Message.objects.get(external_id="SIMrobin")
    assert message.conversation.candidate_id == newcomer.pk
    assert message.conversation_id != talking.pk


def test_keywords_take_the_general_path(client, talking):
    assert inbound(client, "STOP", message_id="SIMstop").status_code == 200
    talking.candidate.refresh_from_db()
    assert talking.candidate.sms_opted_out


def test_fast_task_row_is_the_orms_row(db):
    """The worker cannot tell a row written by `lib.tasks.enqueue` from the backend's own."""
    notify_reply.enqueue(41)
    task_queue.enqueue(notify_reply, 42)
    orm, fast = DBTaskResult.objects.order_by("args_kwargs")
    columns = [f.attname for f in DBTaskResult._meta.concrete_fields]
    different = {c for c in columns if getattr(orm, c) != getattr(fast, c)}
    assert different == {"id", "enqueued_at", "args_kwargs"}
    assert (orm.args_kwargs, fast.args_kwargs) == (
        {"args": [41], "kwargs": {}},
        {"args": [42], "kwargs": {}},
    )
    assert DBTaskResult.objects.ready().count() == 2


@pytest.mark.parametrize("model", [Message, ActivityEntry, Event])
def test_rows_written_without_the_orm_have_no_save_listeners(model):
    """`lib.rows.insert` sends no model signals; nothing may depend on them for these models."""
    assert not pre_save.has_listeners(model) and not post_save.has_listeners(model)


def test_the_task_rows_one_save_listener_is_replicated():
    """django-tasks-db's only pre-save hook fills `run_after`, as `lib.tasks.enqueue` does."""
    from django_tasks_db.signal_handlers import set_run_after

    sync_receivers, async_receivers = pre_save._live_receivers(DBTaskResult)
    assert list(sync_receivers) == [set_run_after] and not list(async_receivers)
    assert not post_save.has_listeners(DBTaskResult)


@pytest.mark.django_db(transaction=True)
def test_parallel_redeliveries_of_a_reply_store_one_message(client, alex, number):
    if connection.vendor != "postgresql":
        pytest.skip("parallel writers: PostgreSQL (SQLite queues them on its one write lock)")
    assert inbound(client, "Hi", message_id="SIMfirst").status_code == 200
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def deliver() -> None:
        from django.test import Client

        try:
            barrier.wait()
            statuses.append(inbound(Client(), "Again", message_id="SIMrace").status_code)
        finally:
            connections.close_all()

    run_threads(deliver, 8, timeout=None)
    assert statuses == [200] * 8
    assert Message.objects.filter(external_id="SIMrace").count() == 1
    assert ActivityEntry.objects.filter(body="Again").count() == 1
    assert Event.objects.filter(message_id__isnull=False).count() == 2
    ids = list(Event.objects.order_by("id").values_list("message_id", flat=True))
    assert ids == sorted(ids)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner, read by EXPLAIN")
def test_route_seeks_the_phone_instead_of_walking_the_inbox(talking, number):
    """With (number, phone, latest first) indexed, the route is a seek, not a walk through
    the number's whole inbox in date order (it took 130 µs at 400 conversations a number)."""
    from hiretext.messaging.inbound import _route_sql

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + _route_sql(), [ALEX, number.e164, "simulator"])
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert "conversation_route (number_id=? AND phone=?)" in plan, plan
    assert "conversation_inbox" not in plan, plan


def test_route_names_the_active_status_in_its_text():
    """A bound value for a column that a partial index's WHERE names (`status = 'active'`)
    makes SQLite re-prepare the statement on every run, to see whether that index applies:
    the route cost 45 µs that way and 5 µs with the literal."""
    from hiretext.messaging.inbound import _route_sql
    from hiretext.messaging.services import _ROUTE_SQL

    for sql in (_route_sql(), *_ROUTE_SQL.values()):
        assert "n.status = 'active'" in sql
        assert "status = %s" not in sql


def test_the_general_route_seeks_the_phone_too(talking, number):
    """The ORM's form of the route (new phones, keywords) reads `conversation_route` too."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's planner chooses by table size")
    from hiretext.messaging.inbound import _person_conversations

    sql, params = _person_conversations(number, ALEX).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert "conversation_route (number_id=? AND phone=?)" in plan, plan


# --- PostgreSQL: the reply and its inbox event in one round trip --------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's event ordering"
)


def _events_of(message):
    return list(
        Event.objects.filter(message_id=message.pk).values_list(
            "kind", "number_id", "conversation_id", "data"
        )
    )


@postgres_only
@pytest.mark.django_db(transaction=True)  # autocommit, as a web worker runs
def test_reply_and_its_event_are_one_round_trip_and_a_redelivery_adds_no_event(
    client, talking, number
):
    with CaptureQueriesContext(connection) as queries:
        assert inbound(client, "On my way", message_id="SIMone").status_code == 200
    executed = [q["sql"] for q in queries]
    assert len(executed) == 1, [sql[:80] for sql in executed]  # one round trip
    assert "WITH r AS (" in executed[0] and "pg_advisory_xact_lock" in executed[0]
    message = Message.objects.get(external_id="SIMone")
    expected = [("message", number.pk, talking.pk, {"direction": "in", "status": "received"})]
    assert _events_of(message) == expected
    assert ReplyNotice.objects.filter(message_id=message.pk).count() == 1
    assert inbound(client, "On my way", message_id="SIMone").status_code == 200  # again
    assert Message.objects.filter(external_id="SIMone").count() == 1
    assert _events_of(message) == expected


@postgres_only
@pytest.mark.django_db(transaction=True)  # autocommit, as a web worker runs
def test_a_reply_after_a_rolled_back_transaction_on_the_connection_is_stored(
    client, talking, number
):
    """psycopg deallocates every prepared statement of a connection when a transaction on
    it rolls back; the next reply must prepare its statements again, not fail."""
    from django.db import transaction

    from hiretext.lib import prepared

    assert inbound(client, "First", message_id="SIMbefore").status_code == 200
    prepared.fetchone("SELECT id FROM messaging_message WHERE id = %s", [0])  # psycopg's own
    with pytest.raises(RuntimeError), transaction.atomic():
        Message.objects.filter(external_id="SIMbefore").update(body="changed")
        raise RuntimeError("a request that fails inside its transaction")
    for attempt in ("SIMafter", "SIMafter2"):
        assert inbound(client, "Still there?", message_id=attempt).status_code == 200
        message = Message.objects.get(external_id=attempt)
        assert len(_events_of(message)) == 1
    assert Message.objects.get(external_id="SIMbefore").body == "First"


@postgres_only
@pytest.mark.django_db(transaction=True)  # autocommit, as a web worker runs
def test_the_reply_and_its_event_make_the_server_raise_no_warning(client, talking):
    """Each webhook would otherwise write a warning to the server's log (and send it back)."""
    connection.ensure_connection()
    notices: list[str] = []

    def collect(diagnostic):
        notices.append(f"{diagnostic.severity}: {diagnostic.message_primary}")

    connection.connection.add_notice_handler(collect)
    try:
        assert inbound(client, "On my way", message_id="SIMquiet").status_code == 200
        assert inbound(client, "On my way", message_id="SIMquiet").status_code == 200  # again
    finally:
        connection.connection.remove_notice_handler(collect)
    assert Message.objects.filter(external_id="SIMquiet").count() == 1
    assert notices == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_event_that_fails_after_the_reply_committed_is_written_by_the_listener(
    client, talking, number, monkeypatch
):
    from django.db import DatabaseError

    from hiretext.inbox import events
    from hiretext.lib import prepared

    def store_then_fail(statements, *args, **kwargs):
        for sql, params in statements:
            prepared.fetchone(sql, params)  # committed (autocommit)
        raise DatabaseError("the event's transaction failed")

    monkeypatch.setattr(events, "run_then_publish", store_then_fail)
    assert inbound(client, "Still there?", message_id="SIMlate").status_code == 200
    message = Message.objects.get(external_id="SIMlate")
    assert _events_of(message) == [
        ("message", number.pk, talking.pk, {"direction": "in", "status": "received"})
    ]
    assert ActivityEntry.objects.filter(ref_id=message.pk, kind="sms_in").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_failure_before_anything_was_stored_is_raised_and_stores_nothing(
    client, talking, monkeypatch
):
    from django.db import DatabaseError

    from hiretext.inbox import events

    def fail(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(events, "run_then_publish", fail)
    sms = InboundSms(
        external_id="SIMlost",
        from_e164=ALEX,
        to_e164=talking.number.e164,
        body="Hi",
        occurred_at=timezone.now(),
    )
    with pytest.raises(DatabaseError):
        record_inbound("simulator", sms)
    assert not Message.objects.filter(external_id="SIMlost").exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_reply_notifies_listeners_with_its_event(client, talking, number, settings):
    import psycopg

    settings.HIRETEXT_EVENTS_BACKEND = "postgres"
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as listener:
        listener.execute("LISTEN hiretext_events")
        assert inbound(client, "Ping", message_id="SIMping").status_code == 200
        payloads = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    event = Event.objects.get(message_id=Message.objects.get(external_id="SIMping").pk)
    assert payloads == [f"{event.pk}:{number.pk}"]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_reply_is_published_to_redis_with_its_event(client, talking, number, settings):
    import redis

    from hiretext.inbox.tests.test_fanout import _reachable

    if not _reachable("127.0.0.1", 6379):
        pytest.skip("Redis on 127.0.0.1:6379 (as in CI); test_fanout covers a private server")
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    settings.HIRETEXT_EVENTS_BACKEND = "redis"
    subscriber = redis.Redis.from_url(settings.REDIS_URL).pubsub()
    subscriber.subscribe("hiretext_events")
    assert subscriber.get_message(timeout=2)["type"] == "subscribe"
    assert inbound(client, "Ping", message_id="SIMredis").status_code == 200
    published = subscriber.get_message(timeout=5)
    subscriber.close()
    event = Event.objects.get(message_id=Message.objects.get(external_id="SIMredis").pk)
    assert published["data"].decode() == f"{event.pk}:{number.pk}"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_reply_whose_event_transaction_fails_is_stored_and_its_event_written_after(
    client, talking, number, monkeypatch
):
    from hiretext.inbox import events

    real = events._event_sql

    def failing_when_in_the_pipeline(computed, source, notify):
        sql = real(computed, source, notify)
        return sql.replace("FROM e", "FROM e, no_such_table") if source else sql

    monkeypatch.setattr(events, "_event_sql", failing_when_in_the_pipeline)
    assert inbound(client, "Still there?", message_id="SIMpiped").status_code == 200
    message = Message.objects.get(external_id="SIMpiped")
    assert _events_of(message) == [
        ("message", number.pk, talking.pk, {"direction": "in", "status": "received"})
    ]
    assert ReplyNotice.objects.filter(message_id=message.pk).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_reply_after_the_server_ended_the_connection_is_stored(client, talking, number):
    import time

    import psycopg

    assert inbound(client, "First", message_id="SIMfirst").status_code == 200
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.02)
    # A new request (the test client keeps Django's per-request connection check away).
    assert connection.health_check_enabled
    connection.health_check_done = False
    assert inbound(client, "Second", message_id="SIMsecond").status_code == 200
    assert Message.objects.filter(external_id="SIMsecond").count() == 1
    assert connection.connection.info.backend_pid != pid


@postgres_only
@pytest.mark.django_db(transaction=True)  # two connections, each committing
def test_a_reply_never_waits_for_a_lock_held_on_its_organisation_or_number(client, talking, number):
    """Another transaction holds the organisation's and the number's rows (an edit of the
    organisation's settings, say): the reply is stored, and its event written, at once."""
    from hiretext.accounts.models import Organization
    from hiretext.numbers.models import PhoneNumber

    held = [
        (f'SELECT 1 FROM "{table}" WHERE id = %s FOR UPDATE', [pk])
        for table, pk in (
            (Organization._meta.db_table, number.organization_id),
            (PhoneNumber._meta.db_table, number.pk),
        )
    ]
    try:
        with held_in_another_transaction(*held):
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")  # a wait fails the request instead
            response = inbound(client, "Still on?", message_id="SIMlocked")
    finally:
        connection.close()
    assert response.status_code == 200 and response.json() == {"received": 1, "stored": 1}
    message = Message.objects.get(external_id="SIMlocked")
    assert len(_events_of(message)) == 1


def test_deleting_a_number_deletes_its_conversations_messages_and_events(client, talking, number):
    """An event's number has no database constraint: Django's cascade is what removes it."""
    assert inbound(client, "Bye", message_id="SIMlast").status_code == 200
    assert Message.objects.filter(conversation=talking).count() == 2
    assert Event.objects.filter(number_id=number.pk).exists()
    number_id = number.pk
    number.delete()
    assert not Conversation.objects.filter(number_id=number_id).exists()
    assert not Message.objects.filter(conversation_id=talking.pk).exists()
    assert not Event.objects.filter(number_id=number_id).exists()
