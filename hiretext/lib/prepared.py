"""Server-side prepared statements for the hot paths on PostgreSQL.

Django binds parameters on the client: each statement is sent as text with every value
quoted into it, and PostgreSQL parses and plans it again (the inbound route query spent
2 ms planning for 0.2 ms of work). Here each PostgreSQL statement is prepared once per
connection, under a name of our own, and run with its values sent apart, through libpq
(psycopg's `pq` layer, its C adapters and its wait loop) instead of a cursor, which cost
several times as much Python per statement. `pipeline` sends several transactions'
statements in one round trip.

psycopg itself prepares nothing here, so it never sends the `DEALLOCATE ALL` it sends
after a rollback on a connection where it has. SQLite runs the SQL as it is (its driver
keeps compiled statements per connection). Errors are Django's (`IntegrityError`…).
"""

import contextlib
import hashlib
import logging
import re
import time
import weakref
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from psycopg import errors
from psycopg.adapt import PyFormat, Transformer
from psycopg.waiting import Ready, Wait

log = logging.getLogger("django.db.backends")
_MARK = re.compile(r"%[%s]")
# libpq's result statuses (psycopg.pq.ExecStatus), compared as plain ints.
_COMMAND_OK, _TUPLES_OK, _FATAL_ERROR, _PIPELINE_SYNC, _PIPELINE_ABORTED = 1, 2, 7, 10, 11
_IDLE = 0  # libpq's PQTRANS_IDLE
_BIGINT, _SMALLER_INTS = 20, (21, 23)  # the oids of bigint, smallint and integer
_UNDEFINED_PREPARED_STATEMENT = "26000"  # PostgreSQL's invalid_sql_statement_name


@dataclass
class _Session:
    """What is kept per live driver connection."""

    # psycopg's adapter, kept: it looks a value's dumper up once per type (a new one per
    # statement looked them all up again).
    adapt: Any
    prepared: set[bytes] = field(default_factory=set)  # names PREPAREd on the connection


_sessions: "weakref.WeakKeyDictionary[Any, _Session]" = weakref.WeakKeyDictionary()


def _session(conn: Any) -> _Session:
    found = _sessions.get(conn)
    if found is None:
        found = _sessions[conn] = _Session(Transformer(conn))
    return found


Statement = tuple[str, Sequence[Any]]  # SQL with %s placeholders, and its parameters


def fetchone(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """Run `sql` (with `%s` placeholders) prepared; its first row, if any."""
    rows = _run(sql, params, many=False)
    return rows[0] if rows else None


def fetchall(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run `sql` (with `%s` placeholders) prepared; all its rows."""
    return _run(sql, params, many=True)


@dataclass
class Outcome:
    """What one transaction of a `pipeline` did: each statement's rows, or its error."""

    rows: list[list[tuple[Any, ...]]] = field(default_factory=list)
    error: DatabaseError | None = None
    ran: bool = True  # False: an earlier transaction of the pipeline failed, this one never ran

    def first_row(self, statement: int = -1) -> tuple[Any, ...] | None:
        """The first row a statement returned (the last statement's by default); the
        transaction's error is raised instead, if it failed."""
        if self.error is not None:
            raise self.error
        found = self.rows[statement]
        return found[0] if found else None


def pipeline(*transactions: Sequence[Statement]) -> list[Outcome]:
    """Run each sequence of statements as a transaction of its own, all of them in one
    round trip on PostgreSQL (libpq's pipeline mode); never inside a caller's transaction.

    A transaction that fails is rolled back, and the ones after it do not run (`ran`);
    those before it stay committed. The outcomes say what each did; a statement's error is
    returned there, not raised.
    """
    db = connections[DEFAULT_DB_ALIAS]
    if db.in_atomic_block:
        raise transaction.TransactionManagementError("A pipeline runs its own transactions.")
    if db.vendor != "postgresql" or db.execute_wrappers:
        outcomes: list[Outcome] = []
        for statements in transactions:
            failed = any(outcome.error is not None for outcome in outcomes)
            outcomes.append(Outcome(ran=False) if failed else _through_django_atomic(statements))
        return outcomes
    _connect(db)
    started = time.monotonic()
    with db.wrap_database_errors:
        outcomes = _pipeline(db, transactions)
    for k, outcome in enumerate(outcomes):
        if _statement_gone(outcome.error):
            # Deallocated behind our back (`DISCARD ALL`): that transaction ran nothing,
            # and the ones after it may read what it writes. Prepared again, they run again.
            _session(db.connection).prepared.clear()
            with db.wrap_database_errors:
                outcomes = outcomes[:k] + _pipeline(db, transactions[k:])
            break
    if db.queries_logged:
        _log(db, [statement for statements in transactions for statement in statements], started)
    return outcomes


def _log(db: Any, statements: list[Statement], started: float) -> None:
    """Record one round trip as Django's debug cursor records a query (`connection.queries`,
    the `django.db.backends` logger): its statements with their values, `; `-separated."""
    duration = time.monotonic() - started
    sql = "; ".join(db.ops.compose_sql(text, params) for text, params in statements)
    db.queries_log.append({"sql": sql, "time": f"{duration:.3f}"})
    log.debug("(%.3f) %s; alias=%s", duration, sql, db.alias)


def _through_django_atomic(statements: Sequence[Statement]) -> Outcome:
    try:
        with transaction.atomic():
            return Outcome([_through_django(sql, params, True) for sql, params in statements])
    except DatabaseError as exc:
        return Outcome([], exc)


def _run(sql: str, params: Sequence[Any], *, many: bool) -> list[tuple[Any, ...]]:
    # The connection itself, looked up once: each attribute read through Django's
    # `connection` proxy is another lookup of the thread's connection.
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "sqlite":
        return _sqlite_run(db, sql, params, many)
    if db.vendor != "postgresql" or db.execute_wrappers:
        return _through_django(sql, params, many)  # wrapped: Django's cursor runs it
    db.validate_no_broken_transaction()
    _connect(db)
    conn = db.connection
    started = time.monotonic()
    try:
        with db.wrap_database_errors:
            if not conn.autocommit and conn.pgconn.transaction_status == _IDLE:
                conn.wait(conn._start_query())  # the caller's transaction begins, as psycopg's
            rows = _run_prepared(db, sql, params)
            if rows is None:  # not prepared on this connection: prepared and run in one go
                outcome = _pipeline(db, [[(sql, params)]], single=True)[0]
                if outcome.error is not None:
                    raise outcome.error
                rows = outcome.rows[0]
    finally:
        if db.queries_logged:  # a failed statement too, as Django's debug cursor logs it
            _log(db, [(sql, params)], started)
    return rows


def _run_prepared(db: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]] | None:
    """The common case of `_run`: a statement the connection has prepared, sent and read
    without the pipeline's bookkeeping (a tenth of a round trip's Python). None when it is
    not prepared yet, or was deallocated behind our back: `_pipeline` prepares it. Its
    error is raised as Django's."""
    conn = db.connection
    session = _session(conn)
    name = _named(sql)[0]
    if name not in session.prepared:
        return None
    adapt = session.adapt
    values = adapt.dump_sequence(params, _text_formats(len(params)))
    pgconn = conn.pgconn
    with conn.lock:
        pgconn.send_query_prepared(name, values)
        (result,) = conn.wait(_results(pgconn, syncs=0, commands=1))
    status = result.status
    if status == _TUPLES_OK:
        adapt.set_pgresult(result)
        return list(adapt.load_rows(0, result.ntuples, tuple))
    if status == _COMMAND_OK:
        return []
    error = _django_error(db, result)
    if _statement_gone(error) and db.get_autocommit():
        session.prepared.clear()
        return None
    raise error


@lru_cache(maxsize=128)
def _text_formats(count: int) -> list[PyFormat]:
    """`count` parameters, each sent as text (psycopg's adapter reads the list, never
    changes it)."""
    return [PyFormat.TEXT] * count


def _connect(db: Any) -> None:
    """The connection, checked first as a cursor's first use in a request checks it
    (CONN_HEALTH_CHECKS): one the server ended is replaced, not failed on."""
    db.close_if_health_check_failed()
    db.ensure_connection()


def _statement_gone(error: BaseException | None) -> bool:
    cause = getattr(error, "__cause__", None)
    return getattr(cause, "sqlstate", None) == _UNDEFINED_PREPARED_STATEMENT


@lru_cache(maxsize=512)
def _named(sql: str) -> tuple[bytes, bytes]:
    """The statement's name (a digest of its text) and its text with `$1…` placeholders
    (`%%` is a percent sign, as for a cursor)."""
    count = 0

    def number(mark: re.Match[str]) -> str:
        nonlocal count
        if mark.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    body = _MARK.sub(number, sql)
    digest = hashlib.blake2b(body.encode(), digest_size=8).hexdigest()
    return f"hx_{digest}".encode(), body.encode()


def _pipeline(
    db: Any, transactions: Sequence[Sequence[Statement]], *, single: bool = False
) -> list[Outcome]:
    """Prepare what the connection lacks, run the statements, read every result.

    `single`: one statement (`_run`, when the connection has not prepared it), inside a
    caller's transaction too.
    """
    conn = db.connection
    pgconn = conn.pgconn
    session = _session(conn)
    done, adapt = session.prepared, session.adapt
    new: dict[bytes, tuple[bytes, list[int]]] = {}
    runs: list[list[tuple[bytes, Any]]] = []
    for statements in transactions:  # every value adapted before anything is sent
        run = []
        for sql, params in statements:
            name, body = _named(sql)
            run.append((name, adapt.dump_sequence(params, _text_formats(len(params)))))
            if name not in done:
                # Typed as these values are, but any integer as bigint (psycopg types each
                # by its size); a None leaves its type to the statement.
                types = [_BIGINT if oid in _SMALLER_INTS else oid for oid in adapt.types or ()]
                new[name] = (body, types)
        runs.append(run)
    with conn.lock:
        results = conn.wait(_send_pipeline(pgconn, new, runs))
        if not single and pgconn.transaction_status != _IDLE:
            # A transaction between BEGIN and COMMIT failed: the sync leaves it open.
            pgconn.send_query(b"ROLLBACK")
            conn.wait(_results(pgconn, syncs=0, commands=1))
    return _outcomes(db, adapt, results, transactions, new, done)


def _send_pipeline(
    pgconn: Any, new: dict[bytes, tuple[bytes, list[int]]], runs: list[list[tuple[bytes, Any]]]
) -> Generator[Any, Any, list[Any]]:
    """A psycopg wait generator: the statements to prepare (then a sync), then every
    transaction's statements, each between BEGIN and COMMIT when there are several, then
    one sync; returns every result.

    One sync, so the server answers once and this process wakes once: a sync after each
    transaction made it send, and this process wait for, each transaction's results apart.
    """
    pgconn.enter_pipeline_mode()
    try:
        if new:
            for name, (body, types) in new.items():
                pgconn.send_prepare(name, body, param_types=types)
            pgconn.pipeline_sync()
        framed = len(runs) > 1
        for run in runs:
            if framed:
                pgconn.send_query_params(b"BEGIN", None)
            for name, values in run:
                pgconn.send_query_prepared(name, values)
            if framed:
                pgconn.send_query_params(b"COMMIT", None)
        pgconn.pipeline_sync()
        return (yield from _results(pgconn, syncs=1 + bool(new), commands=0))
    finally:
        if pgconn.pipeline_status:
            with contextlib.suppress(Exception):  # a lost connection: its error is raised
                pgconn.exit_pipeline_mode()


def _results(pgconn: Any, *, syncs: int, commands: int) -> Generator[Any, Any, list[Any]]:
    """Flush what was sent, then read results until `syncs` pipeline syncs (pipeline
    mode) or `commands` commands' results (one statement) have arrived."""
    while pgconn.flush():
        if (yield Wait.RW) & Ready.R:
            pgconn.consume_input()
    results: list[Any] = []
    while syncs or commands:
        while pgconn.is_busy():
            if (yield Wait.R):
                pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:  # the end of one command's results
            commands -= bool(commands)
            continue
        if result.status == _PIPELINE_SYNC:
            syncs -= 1
        results.append(result)
    return results


def _outcomes(
    db: Any,
    adapt: Any,
    results: list[Any],
    transactions: Sequence[Sequence[Statement]],
    new: dict[bytes, tuple[bytes, list[int]]],
    done: set[bytes],
) -> list[Outcome]:
    read = iter(results)
    failed: dict[bytes, Any] = {}  # statements whose PREPARE failed: their error
    for name in new:
        result = next(read)
        if result.status == _COMMAND_OK:
            done.add(name)
        else:
            failed[name] = result
    if new:
        next(read)  # the prepares' sync
    framed = len(transactions) > 1  # (as `_send_pipeline` sends them)
    outcomes = []
    for statements in transactions:
        outcome = Outcome()
        if framed:
            outcome.ran = next(read).status == _COMMAND_OK  # its BEGIN
        for sql, _ in statements:
            result = next(read)
            status = result.status
            if status == _TUPLES_OK:
                adapt.set_pgresult(result)
                outcome.rows.append(adapt.load_rows(0, result.ntuples, tuple))
                continue
            outcome.rows.append([])
            if status == _FATAL_ERROR and outcome.error is None:
                # A statement that could not be prepared fails with that error, not with
                # "prepared statement does not exist".
                outcome.error = _django_error(db, failed.get(_named(sql)[0], result))
            elif status == _PIPELINE_ABORTED and not framed:
                outcome.ran = False
        if framed:
            result = next(read)  # its COMMIT
            if result.status == _FATAL_ERROR and outcome.error is None:
                outcome.error = _django_error(db, result)
        outcomes.append(outcome)
    next(read)  # the sync
    return outcomes


def _django_error(db: Any, result: Any) -> DatabaseError:
    """The error a failed result reports, as Django raises it (`IntegrityError`…)."""
    error = errors.error_from_result(result, encoding=db.connection.info.encoding)
    try:
        with db.wrap_database_errors:
            raise error
    except DatabaseError as django_error:
        return django_error
    raise AssertionError("unreachable")  # pragma: no cover


def columns_returned(cursor: Any) -> int | None:
    """How many columns the current result of `cursor` has; None for a statement that
    returns no rows. psycopg's `description` builds an object per column on every access:
    its result's field count says the same."""
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
