"""The worker's claim (`lib.task_worker`) takes the task the library's own loop would take,
leaves the row as the library's `claim()` does, and never hands one task to two loops."""

from datetime import timedelta

import pytest
from django.db import connection
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from hiretext.lib.task_worker import Worker, claim_next
from tests.threads import run_threads

ran: list[str] = []


@task
def remember(value: str) -> str:
    ran.append(value)
    return value.upper()


@task
def explode() -> None:
    raise ValueError("no")


def _worker(max_tasks: int, queues: list[str] | None = None) -> Worker:
    return Worker(
        queue_names=queues or ["*"],
        interval=0.01,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id="w-test",
        excluded_queue_names=[],
    )


def _library_order(queues: list[str] | None = None) -> list[str]:
    ready = DBTaskResult.objects.ready().filter(backend_name="default")
    if queues:
        ready = ready.filter(queue_name__in=queues)
    return [str(pk) for pk in ready.values_list("id", flat=True)]  # the model's ordering


@pytest.fixture
def mixed_queue(db):
    """Ready tasks of several priorities, run-afters and queues, and some not to take."""
    now = timezone.now()
    remember.using(priority=0).enqueue("low")
    remember.using(priority=10).enqueue("high")
    remember.using(priority=10, run_after=now - timedelta(minutes=5)).enqueue("high-due")
    mail = remember.using(priority=0).enqueue("mail")
    DBTaskResult.objects.filter(pk=mail.id).update(queue_name="mail")  # (settings: one queue)
    remember.using(priority=-5).enqueue("lowest")
    remember.using(priority=50, run_after=now + timedelta(hours=1)).enqueue("later")
    running = remember.using(priority=50).enqueue("running")
    DBTaskResult.objects.filter(pk=running.id).update(status="RUNNING")
    other = remember.using(priority=50).enqueue("other backend")
    DBTaskResult.objects.filter(pk=other.id).update(backend_name="elsewhere")


@pytest.mark.parametrize("queues", [None, ["default"], ["mail", "default"]])
def test_claims_in_the_librarys_order_and_only_what_it_would_take(mixed_queue, queues):
    expected = _library_order(queues)
    assert len(expected) >= 2
    claimed = []
    while (found := claim_next("w-1", "default", queues)) is not None:
        claimed.append(str(found.pk))
    assert claimed == expected
    values = DBTaskResult.objects.filter(status="READY").values_list("args_kwargs", flat=True)
    left = sorted(row["args"][0] for row in values)
    assert left == sorted(
        {"later", "other backend"} | ({"mail"} if queues == ["default"] else set())
    )


def test_the_claimed_row_is_as_the_librarys_claim_leaves_it(db):
    before = timezone.now()
    result = remember.enqueue("x")
    DBTaskResult.objects.filter(pk=result.id).update(worker_ids=["earlier"])
    claimed = claim_next("w-2", "default", None)
    assert claimed is not None and str(claimed.pk) == str(result.id)
    stored = DBTaskResult.objects.get(pk=result.id)
    for row in (claimed, stored):
        assert row.status == "RUNNING"
        assert row.worker_ids == ["earlier", "w-2"]
        assert before <= row.started_at <= timezone.now()
        assert row.run_after == get_date_max() and row.finished_at is None
        assert row.task_result.args == ["x"]


def test_an_empty_queue_gives_none(db):
    assert claim_next("w", "default", None) is None
    assert claim_next("w", "default", ["nothing-here"]) is None


@pytest.mark.django_db(transaction=True)  # as a worker runs: no test transaction around it
def test_the_loop_runs_tasks_and_records_success_and_failure():
    ran.clear()
    ok = remember.enqueue("a")
    bad = explode.enqueue()
    _worker(max_tasks=2).run()
    assert ran == ["a"]
    done = DBTaskResult.objects.get(pk=ok.id)
    assert (done.status, done.return_value, done.worker_ids) == ("SUCCESSFUL", "A", ["w-test"])
    assert done.finished_at is not None and done.started_at <= done.finished_at
    assert (done.exception_class_path, done.traceback) == ("", "")
    failed = DBTaskResult.objects.get(pk=bad.id)
    assert failed.status == "FAILED" and failed.exception_class_path == "builtins.ValueError"
    assert "no" in failed.traceback


@pytest.mark.django_db(transaction=True)
def test_the_loop_stops_when_told_and_sleeps_when_idle(monkeypatch):
    worker = _worker(max_tasks=100)
    naps = []

    def nap(seconds):
        naps.append(seconds)
        worker.running = False

    monkeypatch.setattr("hiretext.lib.task_worker.time.sleep", nap)
    worker.run()
    assert naps == [0.01]


@pytest.mark.django_db(transaction=True)
def test_parallel_loops_never_claim_one_task_twice():
    if connection.vendor != "postgresql":
        pytest.skip("parallel claims: PostgreSQL (SQLite runs one writer at a time)")
    for k in range(40):
        remember.enqueue(str(k))
    claimed: list[list[str]] = [[] for _ in range(8)]

    def claim_all(k: int) -> None:
        try:
            while (found := claim_next(f"w-{k}", "default", None)) is not None:
                claimed[k].append(str(found.pk))
        finally:
            connection.close()

    run_threads(claim_all, 8, indexed=True)
    everything = [pk for mine in claimed for pk in mine]
    assert len(everything) == len(set(everything)) == 40
    assert sum(1 for mine in claimed if mine) > 1  # they did run side by side
    assert not DBTaskResult.objects.filter(status="READY").exists()
    for row in DBTaskResult.objects.all():
        assert len(row.worker_ids) == 1


def test_success_is_recorded_as_the_librarys_set_successful_records_it(db):
    """The same columns as `DBTaskResult.set_successful`, in one UPDATE."""
    from django.test.utils import CaptureQueriesContext

    from hiretext.lib.task_worker import mark_successful

    ours, theirs = remember.enqueue("a"), remember.enqueue("b")
    mine = claim_next("w", "default", None)
    other = claim_next("w", "default", None)
    with CaptureQueriesContext(connection) as queries:
        mark_successful(mine, {"sent": 1})
    assert len(queries) == 1 and queries[0]["sql"].startswith("UPDATE")
    other.set_successful({"sent": 1})
    columns = ["status", "return_value", "exception_class_path", "traceback", "worker_ids"]
    a, b = (
        DBTaskResult.objects.filter(pk=pk).values(*columns, "finished_at").get()
        for pk in (ours.id, theirs.id)
    )
    assert a.pop("finished_at") is not None and b.pop("finished_at") is not None
    assert a == b
