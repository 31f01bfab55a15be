"""Background work for messaging: the carrier call, with retries and back-off.

Retry policy: up to `services.MAX_ATTEMPTS` attempts, waiting `BACKOFF[n]` seconds after
the n-th failure. Backends that cannot defer (the immediate backend used in tests) retry
at once, so a test sees the whole sequence synchronously.
"""

from datetime import timedelta
from functools import cache
from typing import Any

from django.db import connection, models, transaction
from django.tasks import task
from django.utils import timezone
from django.utils.json import normalize_json

from hiretext.messaging import services

BACKOFF = (5, 30, 120, 600, 1800)


@task
def deliver_message(message_id: int, attempt: int = 1) -> str:
    outcome = services.deliver(message_id)
    if outcome != services.Outcome.RETRY:
        return outcome
    if attempt >= services.MAX_ATTEMPTS:
        services.give_up(message_id)
        return services.Outcome.DONE
    delay = BACKOFF[min(attempt - 1, len(BACKOFF) - 1)]
    retry = deliver_message
    if retry.get_backend().supports_defer:
        retry = retry.using(run_after=timezone.now() + timedelta(seconds=delay))
    retry.enqueue(message_id, attempt + 1)
    return outcome


def queue_delivery(message_id: int) -> None:
    """Queue the delivery of an accepted message, from inside its transaction.

    With the database backend the task row is written in that transaction (one cached
    INSERT, the same row the backend's ORM `enqueue` writes), so a message is queued
    exactly when it commits. Other backends (the immediate one in tests) are called once
    it has committed, as they may run the task at once.
    """
    from django_tasks_db.backend import DatabaseBackend

    backend = deliver_message.get_backend()
    if not isinstance(backend, DatabaseBackend):
        transaction.on_commit(lambda: deliver_message.enqueue(message_id))
        return
    from django_tasks_db.models import DBTaskResult, get_date_max

    values = {
        "id": DBTaskResult._meta.pk.get_default(),
        "args_kwargs": normalize_json({"args": [message_id], "kwargs": {}}),
        "priority": deliver_message.priority,
        "task_path": deliver_message.module_path,
        "queue_name": deliver_message.queue_name,
        "run_after": deliver_message.run_after or get_date_max(),
        "backend_name": backend.alias,
    }
    sql, fields = _task_insert(connection.vendor)
    now = timezone.now()
    params = []
    for field in fields:
        if field.attname in values:
            value = values[field.attname]
        elif getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@cache
def _task_insert(vendor: str) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    """The task table's INSERT of every column, built once per database vendor."""
    from django_tasks_db.models import DBTaskResult

    fields = tuple(DBTaskResult._meta.concrete_fields)
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(field.column)) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = quote(DBTaskResult._meta.db_table)
    return f"INSERT INTO {table} ({names}) VALUES ({marks})", fields  # noqa: S608
