"""The PostgreSQL backend's health check (`lib.postgresql`): no round trip while the
connection is idle and quiet, and a connection the server ended is found unusable."""

import time

import psycopg
import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="the PostgreSQL backend",
    ),
]


def _server_ends(pid: int) -> None:
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_the_engine_is_ours():
    assert type(connections[DEFAULT_DB_ALIAS]).__module__ == "hiretext.lib.postgresql.base"


def test_an_idle_quiet_connection_is_usable_without_a_statement(monkeypatch):
    _backend_pid()
    sent = []
    monkeypatch.setattr(
        type(connection.connection), "execute", lambda *a, **k: sent.append(a), raising=True
    )
    assert connection.is_usable() is True
    assert sent == []


def test_a_connection_the_server_ended_is_unusable_and_replaced():
    pid = _backend_pid()
    _server_ends(pid)
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert connection.is_usable() is False
    # As at the start of a request: the check closes it, the next statement reconnects.
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    assert _backend_pid() != pid


def test_a_closed_connection_is_unusable():
    _backend_pid()
    raw = connection.connection
    raw.close()
    assert connection.is_usable() is False
    connection.close()


def test_prepared_statements_and_pipelines_replace_a_connection_the_server_ended():
    """They talk to libpq directly, not through a cursor: they check the connection first
    all the same, as a request's first cursor would (a webhook is not retried)."""
    from hiretext.lib import prepared

    for run in (
        lambda: prepared.fetchone("SELECT pg_backend_pid() + %s", [0])[0],
        lambda: prepared.pipeline([("SELECT pg_backend_pid() + %s", [0])])[0].first_row()[0],
    ):
        pid = run()
        _server_ends(pid)
        deadline = time.monotonic() + 5
        while connection.is_usable() and time.monotonic() < deadline:
            time.sleep(0.02)
        connection.health_check_done = False  # a new request
        assert run() != pid
