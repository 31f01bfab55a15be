"""SQLite writers queue on a lock file (hiretext/lib/sqlite) instead of SQLite's busy wait."""

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
