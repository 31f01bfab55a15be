"""Server-side prepared statements for the hot paths on PostgreSQL.

Django binds parameters on the client, so PostgreSQL plans every statement again: the
inbound route query spent 2 ms planning for 0.2 ms of work. `execute` PREPAREs a
statement once per database connection and EXECUTEs it from then on; other databases
run the SQL as it is (SQLite's driver already keeps compiled statements per connection).
"""

import re
import weakref
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper

_PLACEHOLDER = re.compile(r"%s")
# Statements prepared on each live driver connection (a new connection prepares again).
_prepared: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


def execute(cursor: CursorWrapper, name: str, sql: str, params: Sequence[Any]) -> None:
    """Run `sql` (with `%s` placeholders) as the prepared statement `name`."""
    if connection.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    cursor.execute(statement(cursor, name, sql, len(params)), params)


def statement(cursor: CursorWrapper, name: str, sql: str, count: int) -> str:
    """`EXECUTE name (%s, …)` for `count` parameters, PREPAREd first on a new connection.

    Prepared statements outlive a rolled-back transaction, so marking one done is safe.
    """
    done = _prepared.setdefault(connection.connection, set())
    if name not in done:
        numbered = iter(range(1, sql.count("%s") + 1))
        body = _PLACEHOLDER.sub(lambda _: f"${next(numbered)}", sql)
        cursor.execute(f"PREPARE {name} AS {body}")
        done.add(name)
    return f"EXECUTE {name} ({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"
