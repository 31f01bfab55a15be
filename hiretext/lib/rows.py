"""Writing a row without the ORM's per-save machinery, for the few paths that run hot.

`Model.objects.create()` builds a query, compiles it and sends pre/post-save signals on
every call: about 0.2 ms of Python per row, most of an inbound webhook's cost. `insert()`
sends one cached INSERT per model instead; values still pass through each field's own
`get_db_prep_save` and defaults, so types, JSON and time zones are exactly the ORM's. It
sends no model signals: use it only for models nothing listens to (a test checks that).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from hiretext.lib import prepared


@cache
def _columns(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """Every concrete column but an auto-incremented primary key, in a fixed order."""
    return tuple(
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField))
    )


@cache
def _statement(model: type[models.Model], vendor: str, suffix: str) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(field.column)) for field in _columns(model))
    marks = ", ".join(["%s"] * len(_columns(model)))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks}) {suffix}"  # noqa: S608
    return sql.strip()  # (table and column names from the model, suffix from our code)


# Fields whose database value is the Python value itself when it is a str, an int or None
# (their `get_db_prep_save` only re-checks it): the hot paths skip that call for them.
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
)
_PLAIN_VALUES = (str, int, type(None))
_UNSET = object()
# Prepared date-times by (vendor, value): a row carries the same few (now, the task
# backend's "never") in several columns and rows, and preparing one costs more than the
# INSERT's own Python (SQLite: to UTC, then to text). Bounded; cleared when full.
_TIMES: dict[tuple[str, Any], Any] = {}
_TIMES_KEPT = 64


@dataclass(frozen=True)
class _Column:
    field: models.Field[Any, Any]
    attname: str
    plain: bool  # str/int/None values need no preparation
    text: bool  # a CharField or TextField: any str (a choice's member too) needs none
    moment: bool  # a DateTimeField: prepared values are kept (`_TIMES`)
    stamped: bool  # auto_now / auto_now_add: the current time when not given
    constant: Any  # the prepared default when it is a constant, else _UNSET


@cache
def _plan(model: type[models.Model]) -> tuple[_Column, ...]:
    plan = []
    for field in _columns(model):
        plain = type(field) in _PLAIN_FIELDS or (
            isinstance(field, models.ForeignKey)
            and type(field.target_field) in (models.AutoField, models.BigAutoField)
        )
        stamped = bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
        constant = _UNSET
        if not stamped and not computed_default(field):
            constant = field.get_db_prep_save(field.get_default(), connection)
        moment = type(field) is models.DateTimeField
        text = type(field) in (models.CharField, models.TextField)
        plan.append(_Column(field, field.attname, plain, text, moment, stamped, constant))
    return tuple(plan)


def computed_default(field: models.Field[Any, Any]) -> bool:
    """Whether the field's default is computed on each use (a callable). A field without a
    default has `NOT_PROVIDED`, a class, as its `default`: callable, yet its default is
    always the same (None, or "" where empty strings are allowed)."""
    return field.has_default() and callable(field.default)


def _default(column: _Column, db: BaseDatabaseWrapper) -> Any:
    if column.constant is not _UNSET:
        return column.constant
    value = timezone.now() if column.stamped else column.field.get_default()
    return _prepare(column, value, db)


def _prepare(column: _Column, value: Any, db: BaseDatabaseWrapper) -> Any:
    """`value` as the field saves it. `db`: the connection itself, not Django's proxy (each
    attribute read through the proxy looks the connection up again: 1 µs)."""
    if column.plain and type(value) in _PLAIN_VALUES:
        return value
    if column.text and isinstance(value, str):
        return value  # a choice (a str enum member) too: a text field keeps any str as it is
    if column.moment and type(value) is datetime:
        key = (db.vendor, value)
        found = _TIMES.get(key, _UNSET)
        if found is _UNSET:
            if len(_TIMES) >= _TIMES_KEPT:
                _TIMES.clear()
            found = _TIMES[key] = column.field.get_db_prep_save(value, db)
        return found
    return column.field.get_db_prep_save(value, db)


@dataclass(frozen=True)
class _Layout:
    """The parameters of one INSERT: constants filled in, where each given value goes."""

    template: list[Any]  # constant defaults in place; _UNSET where a value is needed
    slots: dict[str, tuple[int, _Column]]  # attname -> (its place, its column)
    needed: tuple[tuple[int, _Column], ...]  # columns without a constant default


@cache
def _layout(model: type[models.Model], computed: frozenset[str]) -> _Layout:
    columns = [column for column in _plan(model) if column.attname not in computed]
    return _Layout(
        template=[column.constant for column in columns],
        slots={column.attname: (k, column) for k, column in enumerate(columns)},
        needed=tuple((k, c) for k, c in enumerate(columns) if c.constant is _UNSET),
    )


def insert_statement(model: type[models.Model], suffix: str = "") -> str:
    """`INSERT INTO <table> (<every column>) VALUES (%s, …) <suffix>`, built once."""
    return _statement(model, connection.vendor, suffix)


def params(
    model: type[models.Model], values: Mapping[str, Any], *, computed: Mapping[str, str] = {}
) -> list[Any]:
    """The parameters of `insert_statement(model)` (or `insert_select(model, computed)`) for
    `values` (attnames; defaults fill in); columns in `computed` take no parameter."""
    layout = _layout(model, frozenset(computed))
    out = layout.template.copy()
    slots = layout.slots
    db = connections[DEFAULT_DB_ALIAS]
    for attname, value in values.items():
        slot = slots.get(attname)
        if slot is not None:
            out[slot[0]] = _prepare(slot[1], value, db)
    for k, column in layout.needed:
        if out[k] is _UNSET:
            out[k] = _default(column, db)
    return out


@cache
def position(model: type[models.Model], attname: str) -> int:
    """Where `attname`'s value stands in `params(model, …)` (no columns computed)."""
    return [column.attname for column in _plan(model)].index(attname)


def insert_select(model: type[models.Model], computed: Mapping[str, str], source: str) -> str:
    """`INSERT INTO <table> (<every column>) SELECT %s, <expression>, … FROM <source>`.

    Columns named in `computed` (attname → SQL expression over `source`) take that
    expression; the others a parameter, in `params(model, values, computed=computed)` order.
    """
    return _insert_select(model, tuple(computed.items()), source, connection.vendor)


@lru_cache(maxsize=64)
def _insert_select(
    model: type[models.Model], computed_items: tuple[tuple[str, str], ...], source: str, vendor: str
) -> str:
    computed = dict(computed_items)
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(column.field.column)) for column in _plan(model))
    exprs = ", ".join(computed.get(column.attname, "%s") for column in _plan(model))
    table = quote(model._meta.db_table)
    return f"INSERT INTO {table} ({names}) SELECT {exprs} FROM {source}"  # noqa: S608


def insert(model: type[models.Model], values: Mapping[str, Any], *, suffix: str = "") -> Any:
    """INSERT one row of `model` (keys are attnames, e.g. `conversation_id`).

    `suffix` is appended to the statement (e.g. `ON CONFLICT … DO NOTHING RETURNING id`);
    returns the first column of the row it returns, or None when it returns none. On
    PostgreSQL the statement is prepared once per connection.
    """
    row = prepared.fetchone(insert_statement(model, suffix), params(model, values))
    return row[0] if row else None


@cache
def _update_statement(model: type[models.Model], vendor: str, attnames: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    columns = {column.attname: column.field.column for column in _plan(model)}
    assignments = ", ".join(f"{quote(str(columns[name]))} = %s" for name in attnames)
    pk = quote(str(model._meta.pk.column))  # type: ignore[union-attr, unused-ignore]
    return f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {pk} = %s"  # noqa: S608


def update(instance: models.Model, attnames: list[str]) -> None:
    """`instance.save(update_fields=attnames)` as one cached UPDATE of those columns.

    An `auto_now` field among them takes the current time, on the instance too, as `save`
    does. Values pass through each field's `get_db_prep_save`. Like `insert`, it sends no
    model signals: only for models nothing listens to.
    """
    model = type(instance)
    db = connections[DEFAULT_DB_ALIAS]
    plan = {column.attname: column for column in _plan(model)}
    values = []
    for name in attnames:
        column = plan[name]
        if getattr(column.field, "auto_now", False):
            setattr(instance, name, timezone.now())
        values.append(_prepare(column, getattr(instance, name), db))
    pk = model._meta.pk
    assert pk is not None
    values.append(pk.get_db_prep_value(instance.pk, db))
    prepared.fetchone(_update_statement(model, db.vendor, tuple(attnames)), values)
