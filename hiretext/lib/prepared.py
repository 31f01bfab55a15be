"""Server-side prepared statements for the hot paths on PostgreSQL.

Django binds parameters on the client: each statement is sent as text with every value
quoted into it, and PostgreSQL parses and plans it again (the inbound route query spent
2 ms planning for 0.2 ms of work). Here PostgreSQL statements go through a
server-binding psycopg cursor with `prepare=True`: parsed and planned once per
connection, values sent apart. SQLite runs the SQL as it is (its driver already keeps
compiled statements per connection). Errors are Django's (`IntegrityError`…).
"""

import re
import weakref
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, ProgrammingError, connection, connections
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.backends.utils import CursorWrapper

_PLACEHOLDER = re.compile(r"%s")
_TUPLES_OK = 2  # libpq's PGRES_TUPLES_OK (psycopg.pq.ExecStatus.TUPLES_OK)
# Statements PREPAREd by name on each live driver connection (`statement`).
_prepared: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


def fetchone(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """Run `sql` (with `%s` placeholders) prepared; its first row, if any."""
    rows = _run(sql, params, many=False)
    return rows[0] if rows else None


def fetchall(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run `sql` (with `%s` placeholders) prepared; all its rows."""
    return _run(sql, params, many=True)


def _run(sql: str, params: Sequence[Any], *, many: bool) -> list[tuple[Any, ...]]:
    # The connection itself, looked up once: each attribute read through Django's
    # `connection` proxy is another lookup of the thread's connection.
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "sqlite":
        return _sqlite_run(db, sql, params, many)
    if db.vendor != "postgresql" or db.queries_logged or db.execute_wrappers:
        # Logged or wrapped (query-count tests, debugging): Django's cursor sees it.
        return _through_django(sql, params, many)
    import psycopg

    db.validate_no_broken_transaction()
    db.ensure_connection()
    with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return _rows(cursor, many)


def columns_returned(cursor: Any) -> int | None:
    """How many columns the current result of `cursor` has; None for a statement that
    returns no rows. psycopg's `description` builds an object per column on every access
    (a tenth of a PostgreSQL send's Python): its result's field count says the same."""
    result = getattr(cursor, "pgresult", None)
    if result is not None:
        return int(result.nfields) if result.nfields or result.status == _TUPLES_OK else None
    description = cursor.description
    return None if description is None else len(description)


def _rows(cursor: Any, many: bool) -> list[tuple[Any, ...]]:
    """The rows a statement returned (none for one that returns no rows)."""
    if columns_returned(cursor) is None:
        return []
    if many:
        return list(cursor.fetchall())
    row = cursor.fetchone()
    return [] if row is None else [row]


def _through_django(sql: str, params: Sequence[Any], many: bool) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _rows(cursor, many)


@lru_cache(maxsize=256)
def _qmark(sql: str) -> str:
    """`sql` with SQLite's placeholders, as Django's SQLite cursor converts it."""
    return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")


def _sqlite_run(db: Any, sql: str, params: Sequence[Any], many: bool) -> list[tuple[Any, ...]]:
    if db.queries_logged or db.execute_wrappers:
        return _through_django(sql, params, many)
    db.validate_no_broken_transaction()
    if db.connection is None:
        db.ensure_connection()
    with db.wrap_database_errors:
        return _rows(db.connection.execute(_qmark(sql), params), many)


def statement(cursor: CursorWrapper, name: str, sql: str, count: int) -> str:
    """`EXECUTE name (%s, …)` for `count` parameters, PREPAREd first on a new connection.

    For statements sent inside a longer script of several (which only client-side binding
    allows), run by `execute_script`. A statement marked done may be gone all the same:
    psycopg deallocates every statement of the connection when a transaction rolls back.
    """
    done = _prepared.setdefault(connection.connection, set())
    if name not in done:
        numbered = iter(range(1, sql.count("%s") + 1))
        body = _PLACEHOLDER.sub(lambda _: f"${next(numbered)}", sql)
        cursor.execute(f"PREPARE {name} AS {body}")
        done.add(name)
    return f"EXECUTE {name} ({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"


_UNDEFINED_PREPARED_STATEMENT = "26000"  # PostgreSQL's invalid_sql_statement_name


def execute_script(cursor: CursorWrapper, script: Callable[[], tuple[str, list[Any]]]) -> None:
    """Execute `script()`'s SQL (statements that `EXECUTE` ones from `statement`, from an
    explicit BEGIN on) with its parameters.

    When the server no longer has a statement (psycopg deallocates them all after a
    rollback on the connection, any request's), the script failed at that EXECUTE before
    anything of it ran: the statements are prepared again and the script runs once more.
    """
    sql, params = script()
    try:
        cursor.execute(sql, params)
        return
    except ProgrammingError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != _UNDEFINED_PREPARED_STATEMENT:
            raise
    cursor.execute("ROLLBACK")  # the script's transaction, aborted at that EXECUTE
    _prepared.pop(connection.connection, None)
    sql, params = script()
    cursor.execute(sql, params)
