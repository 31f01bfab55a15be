"""SQLite writers queue on a lock file (hiretext/lib/sqlite) instead of SQLite's busy wait."""

import signal
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from hiretext.accounts.models import Organization

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="SQLite's single writer (PostgreSQL locks rows)"
    ),
]


def _in_thread(work, results):
    def run():
        try:
            results.append(work())
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_second_writer_waits_for_the_first_and_then_writes():
    results: list[object] = []
    with transaction.atomic():
        Organization.objects.create(name="First")
        assert connection._writer_held
        started = time.monotonic()
        thread = _in_thread(lambda: Organization.objects.create(name="Second").name, results)
        with transaction.atomic():  # a savepoint: the queue position is kept
            time.sleep(0.3)
        assert results == []  # still waiting for this transaction
    thread.join(10)
    assert results == ["Second"] and time.monotonic() - started >= 0.3
    assert not connection._writer_held
    assert sorted(Organization.objects.values_list("name", flat=True)) == ["First", "Second"]


def test_many_threads_writing_lose_nothing():
    results: list[object] = []

    def write(i: int) -> str:
        for j in range(10):
            with transaction.atomic():
                Organization.objects.create(name=f"T{i}-{j}")
        return "ok"

    threads = [_in_thread(lambda i=i: write(i), results) for i in range(6)]
    for thread in threads:
        thread.join(30)
    assert results == ["ok"] * 6
    assert Organization.objects.filter(name__startswith="T").count() == 60


@pytest.fixture
def short_timeout():
    """Writers wait 0.2 s (the settings dict is shared by every thread's connection)."""
    options = connection.settings_dict["OPTIONS"]
    connection.settings_dict["OPTIONS"] = {**options, "timeout": 0.2}
    yield
    connection.settings_dict["OPTIONS"] = options


def test_a_writer_gives_up_after_the_timeout(short_timeout):
    results: list[object] = []

    def impatient() -> str:
        with transaction.atomic():
            Organization.objects.create(name="Impatient")
        return "wrote"

    with transaction.atomic():
        Organization.objects.create(name="Holder")
        started = time.monotonic()
        _in_thread(impatient, results).join(10)
        assert 0.2 <= time.monotonic() - started < 5
    assert len(results) == 1 and isinstance(results[0], OperationalError)
    assert "locked" in str(results[0])
    assert not Organization.objects.filter(name="Impatient").exists()


def test_a_failed_transaction_releases_the_queue():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        Organization.objects.create(name="Doomed")
        _ = 1 / 0
    assert not connection._writer_held
    results: list[object] = []
    _in_thread(lambda: Organization.objects.create(name="Next").name, results).join(10)
    assert results == ["Next"]


def _holder(results, release: threading.Event, held: threading.Event):
    """A thread that opens a write transaction and keeps it until `release` is set."""

    def hold() -> str:
        with transaction.atomic():
            Organization.objects.create(name="Holder")
            held.set()
            release.wait(10)
            results.append(("released", time.monotonic()))
        return "held"

    return _in_thread(hold, results)


def _alarm_untouched():
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.fixture
def polls(monkeypatch):
    """The waits of writers that poll (a sleep between tries)."""
    from hiretext.lib.sqlite import base

    slept: list[float] = []
    sleep = time.sleep
    monkeypatch.setattr(base.time, "sleep", lambda s: (slept.append(s), sleep(s)))
    return slept


def test_the_main_thread_waits_in_the_kernel_and_gets_the_lock_at_its_release(polls):
    results: list[object] = []
    release, held = threading.Event(), threading.Event()
    thread = _holder(results, release, held)
    assert held.wait(10)
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    with transaction.atomic():  # the main thread: blocked in flock until the holder commits
        got_it = time.monotonic()
        Organization.objects.create(name="Waiter")
    thread.join(10)
    released_at = results[0][1]
    assert got_it - started >= 0.25
    assert got_it - released_at < 1.0  # handed over at the release (room for a busy machine)
    assert polls == []  # woken by the kernel, not by a poll
    _alarm_untouched()
    assert sorted(Organization.objects.values_list("name", flat=True)) == ["Holder", "Waiter"]


def test_the_main_thread_gives_up_after_the_timeout_and_restores_the_alarm(short_timeout):
    results: list[object] = []
    release, held = threading.Event(), threading.Event()
    thread = _holder(results, release, held)
    assert held.wait(10)
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError, match="locked"), transaction.atomic():
            Organization.objects.create(name="Impatient")
        assert 0.2 <= time.monotonic() - started < 2
        assert not connection._writer_held
        _alarm_untouched()
    finally:
        release.set()
        thread.join(10)
    assert not Organization.objects.filter(name="Impatient").exists()
    Organization.objects.create(name="Later")  # the queue works on after a timeout


def test_a_process_that_uses_sigalrm_itself_keeps_it_and_the_writer_polls(short_timeout, polls):
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        results: list[object] = []
        release, held = threading.Event(), threading.Event()
        thread = _holder(results, release, held)
        assert held.wait(10)
        threading.Timer(0.1, release.set).start()
        with transaction.atomic():
            Organization.objects.create(name="Poller")
        thread.join(10)
        assert signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL  # still theirs
        assert fired == [] and polls  # waited by polling, their alarm untouched
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert Organization.objects.filter(name="Poller").exists()
