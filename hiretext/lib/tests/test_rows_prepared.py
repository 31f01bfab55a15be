"""Plain-statement writes (`lib.rows`) and prepared statements (`lib.prepared`)."""

import pytest
from django.db import connection, transaction

from hiretext.inbox.models import Event
from hiretext.lib import prepared, rows

pytestmark = pytest.mark.django_db


def test_insert_fills_defaults_and_prepares_types_like_the_orm(org):
    from hiretext.messaging.tests.conftest import make_number

    number = make_number(org, [])
    data = {"direction": "in", "quote": 'it\'s "quoted" <b>', "emoji": "👍"}
    event_id = rows.insert(
        Event,
        {"number_id": number.pk, "conversation_id": 7, "kind": "message", "data": data},
        suffix="RETURNING id",
    )
    event = Event.objects.get(pk=event_id)
    assert (event.number_id, event.conversation_id, event.message_id, event.data) == (
        number.pk,
        7,
        None,
        data,
    )
    assert event.created_at is not None  # auto_now_add, filled in as the ORM would


def test_statements_are_prepared_once_per_connection():
    sql = "SELECT CAST(%s AS integer) + CAST(%s AS integer)"
    assert [prepared.fetchone(sql, [i, 3]) for i in range(3)] == [(3,), (4,), (5,)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ["SELECT CAST($1 AS integer) + CAST($2 AS integer)%"],
            )
            assert cursor.fetchone()[0] == 1


def test_database_errors_are_djangos(org):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert(Event, {"number_id": 1, "conversation_id": 1, "kind": None})


@pytest.mark.django_db(transaction=True)
def test_prepared_statements_survive_a_reconnect():
    sql = "SELECT CAST(%s AS integer) * CAST(%s AS integer)"
    assert prepared.fetchone(sql, [6, 7]) == (42,)
    connection.close()
    assert prepared.fetchone(sql, [6, 7]) == (42,)


def test_kept_date_times_are_prepared_as_the_field_prepares_them(org):
    """The same instant in two zones, a naive value, and more values than are kept."""
    import datetime as dt
    import zoneinfo

    field = Event._meta.get_field("created_at")
    utc = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)
    paris = utc.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    values = [utc, paris, *(utc + dt.timedelta(seconds=s) for s in range(100)), utc]
    column = next(c for c in rows._plan(Event) if c.attname == "created_at")
    assert column.moment
    for value in values:
        assert rows._prepare(column, value, connection) == field.get_db_prep_save(value, connection)
    assert len(rows._TIMES) <= rows._TIMES_KEPT
    from hiretext.messaging.tests.conftest import make_number

    number = make_number(org, [])
    stored = Event.objects.get(
        pk=rows.insert(
            Event,
            {"number_id": number.pk, "conversation_id": 1, "kind": "read", "created_at": paris},
            suffix="RETURNING id",
        )
    )
    assert stored.created_at == utc


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's go through psycopg")
def test_statements_are_seen_while_django_logs_queries(django_assert_num_queries):
    """The SQLite shortcut past Django's cursor steps aside while queries are counted."""
    with django_assert_num_queries(2) as captured:
        assert prepared.fetchone("SELECT %s || '%%'", ["50"]) == ("50%",)
        assert prepared.fetchone("SELECT %s + 1", [1]) == (2,)
    assert "SELECT" in captured.captured_queries[0]["sql"]


def test_percent_signs_and_placeholders_as_djangos_cursor_reads_them():
    assert prepared.fetchone("SELECT %s || '%%' || %s", ["a", "b"]) == ("a%b",)


def test_a_transaction_marked_for_rollback_refuses_further_statements():
    from django.db.transaction import TransactionManagementError

    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            prepared.fetchone("SELECT %s", [1])


@pytest.mark.django_db(transaction=True)
def test_a_closed_connection_is_opened_again():
    connection.close()
    assert prepared.fetchone("SELECT %s", [5]) == (5,)


def test_a_redelivery_loads_the_stored_message_as_the_orm_does(org, recruiter):
    import datetime as dt

    from hiretext.messaging.models import Conversation, Message
    from hiretext.messaging.tests.conftest import make_number

    number = make_number(org, [recruiter])
    conversation = Conversation.objects.create(
        organization=org, number=number, phone="+15550001111"
    )
    sent = dt.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=dt.UTC)
    message = Message.objects.create(
        organization=org,
        conversation=conversation,
        direction="out",
        body='<b>"hi"</b> 👍',
        status="sent",
        carrier="simulator",
        external_id="SIM1",
        sender=recruiter,
        allowance_period=dt.date(2026, 3, 1),
        sent_at=sent,
    )
    from hiretext.messaging.inbound import _stored

    class Redelivered:
        external_id = "SIM1"

    loaded = _stored("simulator", Redelivered)
    expected = Message.objects.get(pk=message.pk)
    fields = [field.attname for field in Message._meta.concrete_fields]
    assert [getattr(loaded, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert loaded.sent_at == sent and loaded.sent_at.tzinfo is not None
    assert loaded._state.adding is False and loaded._state.db == "default"
    Redelivered.external_id = "none such"
    assert _stored("simulator", Redelivered) is None


def test_fetchall_returns_every_row_and_none_for_a_statement_without_rows(org):
    assert prepared.fetchall("SELECT %s UNION ALL SELECT %s ORDER BY 1", [1, 2]) == [(1,), (2,)]
    assert prepared.fetchall("SELECT 1 WHERE 1 = %s", [0]) == []
    assert (
        prepared.fetchall("UPDATE accounts_organization SET name = name WHERE id = %s", [0]) == []
    )


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1, 2, 3", 3),
        ("SELECT 1, 2, 3 WHERE 1 = 0", 3),  # no rows, still a result with columns
        ("UPDATE accounts_organization SET name = name WHERE id = 0", None),
    ],
)
def test_columns_returned_reads_the_result_without_describing_it(sql, expected):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        assert prepared.columns_returned(cursor) == expected
        assert (cursor.description is None) == (expected is None)
        if expected is not None:
            assert len(cursor.description) == expected


def test_the_tuples_status_is_libpqs():
    from psycopg import pq

    assert prepared._TUPLES_OK == pq.ExecStatus.TUPLES_OK


@pytest.mark.django_db(transaction=True)  # autocommit, as a web worker runs
def test_a_pipeline_runs_each_transaction_alone_and_says_what_each_did(org):
    from django.db import IntegrityError

    from hiretext.messaging.tests.conftest import make_number

    number = make_number(org, [])
    insert = rows.insert_statement(Event, "RETURNING id")
    values = rows.params(Event, {"number_id": number.pk, "conversation_id": 7, "kind": "message"})
    broken = rows.params(Event, {"number_id": number.pk, "conversation_id": 7, "kind": None})
    count = ("SELECT count(*) FROM inbox_event WHERE number_id = %s", [number.pk])
    first, failed, last = prepared.pipeline(
        [(insert, values), count],
        [(insert, values), (insert, broken)],  # the second fails: the first is rolled back
        [count],
    )
    assert first.error is None and first.ran and first.rows[1] == [(1,)]
    assert isinstance(failed.error, IntegrityError) and failed.ran
    with pytest.raises(IntegrityError):
        failed.first_row()
    assert not last.ran and last.error is None  # after a failure, nothing more runs
    assert Event.objects.filter(number_id=number.pk).count() == 1  # the first's row alone
    assert [o.first_row() for o in prepared.pipeline([count], [count])] == [(1,), (1,)]
    (alone,) = prepared.pipeline([(insert, values), (insert, broken)])  # one: no BEGIN
    assert isinstance(alone.error, IntegrityError)
    assert Event.objects.filter(number_id=number.pk).count() == 1
    assert prepared.fetchone(*count) == (1,)  # the connection is usable, outside a transaction
    assert connection.get_autocommit() and not connection.in_atomic_block
    if connection.vendor == "postgresql":
        assert connection.connection.info.transaction_status == 0  # idle: nothing left open


@pytest.mark.django_db(transaction=True)
def test_a_pipeline_never_runs_inside_a_transaction():
    with pytest.raises(transaction.TransactionManagementError), transaction.atomic():
        prepared.pipeline([("SELECT 1", [])])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db(transaction=True)
def test_statements_deallocated_behind_our_back_are_prepared_again_and_rerun():
    from django.db import ProgrammingError

    sql = "SELECT CAST(%s AS integer) - 1"
    assert prepared.fetchone(sql, [43]) == (42,)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler's DISCARD ALL would
    assert prepared.fetchone(sql, [43]) == (42,)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    (outcome,) = prepared.pipeline([(sql, [11]), ("SELECT %s::text", ["x"])])
    assert outcome.rows == [[(10,)], [("x",)]]
    with pytest.raises(ProgrammingError):  # any other error is raised, never retried
        prepared.fetchone("SELECT no_such_column FROM inbox_event WHERE id = %s", [1])
    assert prepared.fetchone(sql, [1]) == (0,)  # and the connection goes on


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db(transaction=True)
def test_a_rollback_no_longer_deallocates_our_statements():
    """psycopg deallocates every statement on a connection after a rollback if it prepared
    any itself; it prepares none of ours."""
    sql = "SELECT CAST(%s AS integer) + 100"
    assert prepared.fetchone(sql, [1]) == (101,)
    with pytest.raises(RuntimeError), transaction.atomic():
        prepared.fetchone(sql, [2])
        raise RuntimeError("a request that fails inside its transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'hx_%%'")
        assert cursor.fetchone()[0] >= 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db(transaction=True)
def test_a_statement_that_cannot_be_prepared_fails_with_its_own_error():
    from django.db import ProgrammingError

    with pytest.raises(ProgrammingError, match="no_such_table"):
        prepared.fetchone("SELECT * FROM no_such_table WHERE id = %s", [1])
    (outcome,) = prepared.pipeline([("SELECT * FROM no_such_table WHERE id = %s", [1])])
    assert "no_such_table" in str(outcome.error)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db(transaction=True)
def test_a_statement_in_a_transaction_is_part_of_it(org):
    """The first statement of a transaction begins it (nothing else was sent yet)."""
    from hiretext.messaging.tests.conftest import make_number

    number = make_number(org, [])
    values = {"number_id": number.pk, "conversation_id": 7, "kind": "message"}
    with pytest.raises(RuntimeError), transaction.atomic():
        assert rows.insert(Event, values, suffix="RETURNING id") is not None
        raise RuntimeError("rolled back")
    assert not Event.objects.filter(number_id=number.pk).exists()


def test_integers_of_every_size_run_through_one_statement():
    sql = "SELECT %s + 0"
    assert [prepared.fetchone(sql, [v])[0] for v in (1, 70_000, 2**40)] == [1, 70_000, 2**40]


def test_only_callable_defaults_are_computed_per_row():
    """A field without a default has Django's NOT_PROVIDED class as its `default`: callable,
    yet its default never changes, so it is prepared once like any constant."""
    from django_tasks_db.models import DBTaskResult

    from hiretext.messaging.models import Message

    computed = {f.name for f in Message._meta.concrete_fields if rows.computed_default(f)}
    assert "conversation" not in computed and "body" not in computed  # no default at all
    assert not rows.computed_default(Message._meta.get_field("segments"))  # a constant
    assert rows.computed_default(DBTaskResult._meta.get_field("id"))  # uuid4, per row
    first, second = (rows.params(DBTaskResult, {}) for _ in range(2))
    at = [f.attname for f in rows._columns(DBTaskResult)].index("id")
    assert first[at] != second[at]


def test_a_choice_is_prepared_for_a_text_column_as_the_field_prepares_it():
    from hiretext.messaging.models import Message

    field = Message._meta.get_field("direction")
    column = next(c for c in rows._plan(Message) if c.attname == "direction")
    value = Message.Direction.INBOUND
    prepared_value = rows._prepare(column, value, connection)
    assert prepared_value == field.get_db_prep_save(value, connection)
    assert type(prepared_value) is type(field.get_db_prep_save(value, connection))


def test_a_logged_statement_carries_its_values_as_djangos_cursor_logs_them():
    """What `connection.queries` shows can be run again as it is (EXPLAIN, a debugger)."""
    from django.test.utils import CaptureQueriesContext

    sql = "SELECT %s || 'x', CAST(%s AS integer) + 1"
    with CaptureQueriesContext(connection) as queries:
        assert prepared.fetchone(sql, ["it's", 41]) == ("it'sx", 42)
    (logged,) = [q["sql"] for q in queries]
    assert "%s" not in logged and "41" in logged
    with connection.cursor() as cursor:
        cursor.execute(logged)
        assert cursor.fetchone() == ("it'sx", 42)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db(transaction=True)
def test_a_prepared_statement_that_fails_on_a_later_run_raises_djangos_error():
    """The second run takes the prepared statement's short path: its rows, its error."""
    from django.db import DataError

    sql = "SELECT 10 / CAST(%s AS integer)"
    assert prepared.fetchone(sql, [5]) == (2,)
    assert prepared.fetchall(sql, [2]) == [(5,)]
    with pytest.raises(DataError, match="division by zero"):
        prepared.fetchone(sql, [0])
    assert prepared.fetchone(sql, [10]) == (1,)  # the connection goes on
    assert prepared.fetchall("SELECT 1 WHERE false AND %s", [True]) == []
    assert prepared.fetchall("SELECT 1 WHERE false AND %s", [True]) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db(transaction=True)
def test_a_statement_deallocated_inside_a_transaction_fails_it_rather_than_rerunning():
    """Inside a caller's transaction the failed statement has aborted it: never run again
    there, the error is raised; afterwards the statement is prepared again."""
    from django.db import ProgrammingError

    sql = "SELECT CAST(%s AS integer) + 100"
    assert prepared.fetchone(sql, [1]) == (101,)
    with pytest.raises(ProgrammingError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        prepared.fetchone(sql, [2])
    assert prepared.fetchone(sql, [3]) == (103,)
