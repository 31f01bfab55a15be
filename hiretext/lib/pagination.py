"""Keyset pagination: opaque cursors over an ordered key, never OFFSET."""

import base64
import json
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from hiretext.lib.errors import ValidationFailed

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Cursor values must fit the database's 64-bit integers and text columns.
MAX_CURSOR_INT = 2**63 - 1
MAX_CURSOR_LENGTH = 512


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed("That cursor is not valid.", {"cursor": ["Invalid cursor."]})


def _valid_value(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -MAX_CURSOR_INT <= value <= MAX_CURSOR_INT
    return isinstance(value, str) and "\x00" not in value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != arity:
            raise ValueError("wrong shape")
        if not all(_valid_value(v) for v in values):
            raise ValueError("wrong types")
        return values
    except (ValueError, TypeError) as exc:
        raise _bad_cursor() from exc


def after(
    fields: Sequence[str], values: Sequence[Any], descending: bool = False
) -> TupleGreaterThan | TupleLessThan:
    """The row-value predicate `(f1, f2, …) > (v1, v2, …)` (`<` when descending).

    Both SQLite and PostgreSQL read it as one range of a matching composite index; the
    equivalent OR chain is not used as a range by either planner.
    """
    lookup = TupleLessThan if descending else TupleGreaterThan
    return lookup(Tuple(*fields), tuple(values))


def paginate[M: Model](
    qs: QuerySet[M],
    fields: Sequence[str],
    cursor: str | None,
    *,
    descending: bool = False,
    limit: int = DEFAULT_PAGE_SIZE,
) -> tuple[list[M], str | None]:
    """One page of `qs` ordered by `fields` (the last one unique, e.g. id) and the next cursor."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    prefix = "-" if descending else ""
    qs = qs.order_by(*(prefix + f for f in fields))
    if cursor:
        values = decode_cursor(cursor, len(fields))
        try:
            # A value of the wrong type for its field (text for an id) fails here, not later.
            qs = qs.filter(after(fields, values, descending))
        except (ValueError, TypeError, ValidationError) as exc:
            raise _bad_cursor() from exc
    try:
        # A cursor value of the wrong type for its field (text for an id) fails when the
        # query is compiled, before anything reaches the database.
        rows = list(qs[: limit + 1])
    except (ValueError, TypeError, ValidationError) as exc:
        if not cursor:
            raise
        raise _bad_cursor() from exc
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, f) for f in fields])
    return rows, next_cursor
