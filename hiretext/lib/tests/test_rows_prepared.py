"""Plain-statement writes (`lib.rows`) and prepared statements (`lib.prepared`)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def test_a_new_connection_prepares_again():
    """A statement is PREPAREd once per connection; after a reconnect it still runs."""
    sql = "SELECT CAST(%s AS integer) + CAST(%s AS integer)"
    for _ in range(2):
        with connection.cursor() as cursor:
            prepared.execute(cursor, "hx_test_add", sql, [2, 3])
            assert cursor.fetchone()[0] == 5
    if connection.vendor == "postgresql":
        with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
            prepared.execute(cursor, "hx_test_add", sql, [4, 5])
        assert [q["sql"] for q in queries] == ["EXECUTE hx_test_add (4, 5)"]


@pytest.mark.django_db(transaction=True)
def test_prepared_statements_survive_a_reconnect():
    with connection.cursor() as cursor:
        prepared.execute(
            cursor, "hx_test_mul", "SELECT CAST(%s AS integer) * CAST(%s AS integer)", [6, 7]
        )
        assert cursor.fetchone()[0] == 42
    connection.close()
    with connection.cursor() as cursor:
        prepared.execute(
            cursor, "hx_test_mul", "SELECT CAST(%s AS integer) * CAST(%s AS integer)", [6, 7]
        )
        assert cursor.fetchone()[0] == 42
