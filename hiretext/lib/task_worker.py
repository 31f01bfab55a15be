"""The task loop of `hiretext worker`: django-tasks-db's, with the claim as one statement.

The library's loop claims a task through the ORM: a transaction, a locking SELECT and a
`save()`, four round trips and about a sixth of a delivery's Python in a worker process
(whose loops share one interpreter lock, so its Python is what bounds its rate). Here
the same row is claimed by one UPDATE that picks it (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite's single writer serialises the statement) and returns it. Which task it
picks, and what the row says afterwards, are the library's: ready, of this backend and
these queues, the highest priority, then the earliest run-after, then the oldest; status
RUNNING, started now, this worker's id appended. Running the task stays the library's own
(`Worker.run_task`); a success is recorded by one cached UPDATE of the columns the library's
`set_successful` saves (`mark_successful`), a failure by the library.
"""

import time
from functools import cache, partial
from typing import Any

from django.db import OperationalError, close_old_connections, connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker as LibraryWorker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import is_locked_database_exception

from hiretext.lib import loaded, prepared, rows


@cache
def _claim_sql(vendor: str, queues: int) -> str:
    quote = connection.ops.quote_name
    table = quote(DBTaskResult._meta.db_table)
    returned = loaded.columns(DBTaskResult, table)
    if vendor == "postgresql":
        append_worker = "worker_ids || jsonb_build_array(%s::text)"
        skip_locked = " FOR UPDATE SKIP LOCKED"
    else:
        append_worker = "json_insert(worker_ids, '$[#]', %s)"
        skip_locked = ""
    in_queues = f" AND queue_name IN ({', '.join(['%s'] * queues)})" if queues else ""
    return (
        f"UPDATE {table} SET status = 'RUNNING', started_at = %s, "  # noqa: S608 - model names
        f"worker_ids = {append_worker} WHERE id = ("
        f"SELECT id FROM {table} WHERE status = 'READY' AND backend_name = %s"
        f" AND (run_after = %s OR run_after <= %s){in_queues}"
        f" ORDER BY priority DESC, run_after ASC, enqueued_at ASC LIMIT 1{skip_locked}"
        f") RETURNING {returned}"
    )


def claim_next(
    worker_id: str, backend_name: str, queues: list[str] | None
) -> "DBTaskResult[Any, Any] | None":
    """Claim the next ready task of `backend_name` in `queues` (None: any queue) for
    `worker_id`, and commit; None when there is none."""
    now = timezone.now()
    moment = DBTaskResult._meta.get_field("run_after")
    params = [
        moment.get_db_prep_save(now, connection),
        worker_id,
        backend_name,
        moment.get_db_prep_save(get_date_max(), connection),
        moment.get_db_prep_save(now, connection),
        *(queues or []),
    ]
    row = prepared.fetchone(_claim_sql(connection.vendor, len(queues or [])), params)
    return None if row is None else loaded.build(DBTaskResult, row)


def mark_successful(task_result: "DBTaskResult[Any, Any]", return_value: Any) -> None:
    """`DBTaskResult.set_successful`: the same fields, written by one cached UPDATE."""
    task_result.status = TaskResultStatus.SUCCESSFUL
    task_result.finished_at = timezone.now()
    task_result.return_value = return_value
    task_result.exception_class_path = ""
    task_result.traceback = ""
    rows.update(
        task_result,
        ["status", "return_value", "finished_at", "exception_class_path", "traceback"],
    )


class Worker(LibraryWorker):
    """django-tasks-db's `Worker`, claiming with `claim_next`. `run` keeps the library's
    loop: connections checked around each task, a locked SQLite is "no task yet", an idle
    loop sleeps `interval`, `running` cleared stops it after the current task."""

    def run(self) -> None:
        queues = None if self.process_all_queues else self.queue_names
        while self.running:
            close_old_connections()
            try:
                task_result = claim_next(self.worker_id, self.backend_name, queues)
            except OperationalError as exc:
                if not is_locked_database_exception(exc):
                    raise
                task_result = None
            if task_result is not None:
                self.run_task(task_result)
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            close_old_connections()
            if self.running and task_result is None:
                time.sleep(self.interval)

    def run_task(self, db_task_result: "DBTaskResult[Any, Any]") -> None:
        db_task_result.set_successful = partial(mark_successful, db_task_result)
        super().run_task(db_task_result)
