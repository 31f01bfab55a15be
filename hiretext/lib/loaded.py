"""Model instances from plain SELECTs, for the hot paths (every API request's token, the
send endpoint's person, a redelivered webhook's message).

The ORM builds and compiles its query on every call, most of a small request's cost.
Here the column list is built once per model; values pass through the same converters
the ORM applies (time zones, booleans, JSON), and instances come from `Model.from_db`, so
they are the ORM's own.
"""

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

from hiretext.lib import rows


@dataclass(frozen=True)
class _Shape:
    columns: tuple[str, ...]
    attnames: list[str]
    pk_index: int
    converters: list[tuple[list[Callable[..., Any]], Any]]


@cache
def _shape(model: type[models.Model], vendor: str) -> _Shape:
    fields = model._meta.concrete_fields
    table = model._meta.db_table
    converters = []
    for field in fields:
        column = field.get_col(table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        converters.append((found, column))
    attnames = [field.attname for field in fields]
    pk_index = attnames.index(model._meta.pk.attname)
    return _Shape(tuple(str(field.column) for field in fields), attnames, pk_index, converters)


def columns(model: type[models.Model], alias: str) -> str:
    """`alias.col1, alias.col2, …`: every concrete column of `model`, in `build`'s order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(name)}" for name in _shape(model, connection.vendor).columns)


def width(model: type[models.Model]) -> int:
    """How many columns `columns(model, …)` lists."""
    return len(_shape(model, connections[DEFAULT_DB_ALIAS].vendor).columns)


def build[M: models.Model](model: type[M], row: Sequence[Any], start: int = 0) -> M | None:
    """The `model` instance in `row[start:]` (as listed by `columns`); None if its primary
    key is NULL (an outer join that found nothing)."""
    # The connection itself, looked up once: each read through Django's proxy looks it up.
    db = connections[DEFAULT_DB_ALIAS]
    shape = _shape(model, db.vendor)
    return _instance(model, shape, _converted(shape, row, start, db))


def field_values(model: type[models.Model], row: Sequence[Any], start: int = 0) -> list[Any]:
    """The values of `model`'s fields in `row[start:]`, converted as the ORM converts them:
    what `from_values` builds from (and what may be kept to build from again)."""
    db = connections[DEFAULT_DB_ALIAS]
    return _converted(_shape(model, db.vendor), row, start, db)


def from_values[M: models.Model](model: type[M], converted: Sequence[Any]) -> M | None:
    """The `model` instance of `field_values(…)`; None if its primary key is NULL."""
    return _instance(model, _shape(model, connections[DEFAULT_DB_ALIAS].vendor), converted)


def _converted(shape: _Shape, row: Sequence[Any], start: int, db: Any) -> list[Any]:
    converted = []
    for offset, (found, expression) in enumerate(shape.converters):
        value = row[start + offset]
        for convert in found:
            value = convert(value, expression, db)
        converted.append(value)
    return converted


def _instance[M: models.Model](model: type[M], shape: _Shape, converted: Sequence[Any]) -> M | None:
    if converted[shape.pk_index] is None:
        return None
    return from_db(model, shape.attnames, converted)


@cache
def _defaults(model: type[models.Model]) -> tuple[list[str], list[Any], list[int]]:
    """Attnames, default values (None where the default is computed) and the positions of
    computed defaults (callables), in `from_db`'s order."""
    fields = model._meta.concrete_fields
    computed = [k for k, field in enumerate(fields) if rows.computed_default(field)]
    values = [None if k in computed else field.get_default() for k, field in enumerate(fields)]
    return [field.attname for field in fields], values, computed


def written[M: models.Model](model: type[M], values: dict[str, Any]) -> M:
    """The instance of a row just written with `values` (attnames; the rest take the
    model's defaults), built as `from_db` builds a loaded row: positional arguments, which
    cost a fraction of keyword ones on the hot paths."""
    attnames, defaults, computed = _defaults(model)
    row = defaults.copy()
    for k in computed:
        row[k] = model._meta.concrete_fields[k].get_default()
    for k, attname in enumerate(attnames):
        if attname in values:
            row[k] = values[attname]
    return from_db(model, attnames, row)


def from_db[M: models.Model](
    model: type[M], attnames: list[str], values: Sequence[Any], alias: str = DEFAULT_DB_ALIAS
) -> M:
    """`model.from_db(…)` for every concrete field's value, in their order: the same
    instance, with the attributes set directly when `Model.__init__` would do no more
    (no init signal listeners, no `__init__` of the model's own, only Django's attribute
    descriptors), which cost most of building one."""
    if pre_init.receivers or post_init.receivers or not _plain_init(model):
        return model.from_db(alias, attnames, values)
    instance = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = alias
    instance._state = state
    instance.__dict__.update(zip(attnames, values, strict=True))
    return instance


@cache
def _plain_init(model: type[models.Model]) -> bool:
    if model.__init__ is not models.Model.__init__:
        return False
    allowed = (DeferredAttribute, ForeignKeyDeferredAttribute)
    return all(
        type(inspect.getattr_static(model, field.attname, None)) in allowed
        for field in model._meta.concrete_fields
    )
