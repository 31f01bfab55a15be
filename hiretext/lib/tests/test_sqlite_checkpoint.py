"""WAL checkpoints beside the writers (hiretext/lib/sqlite/checkpoint.py)."""

import fcntl
import os
import sqlite3
import threading
import time

import pytest
from django.db import connection, transaction

from hiretext.accounts.models import Organization
from hiretext.lib.sqlite.checkpoint import LOOK_EVERY_SECONDS, Checkpointer
from tests.threads import run_threads

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write-ahead log")


def _log_frames(db: sqlite3.Connection) -> int:
    """Pages in the WAL since it last started from its beginning."""
    return int(db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


def _open(path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=5)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpointer copies
    return db


def _wait_for(checkpointer: Checkpointer, runs: int) -> None:
    deadline = time.monotonic() + 10
    while checkpointer.runs < runs:
        assert time.monotonic() < deadline, "the checkpointer did not run"
        time.sleep(0.01)


def test_past_the_threshold_the_wal_is_copied_and_starts_again(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    db = _open(path)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    checkpointer = Checkpointer(path, f"{path}.writer", frames=40, timeout=5)
    for _ in range(10):
        db.execute("INSERT INTO t (body) VALUES (?)", ("x" * 3000,))
        checkpointer.nudge()
    assert checkpointer.runs == 0  # below 40 pages: nothing to do
    written = 10
    while checkpointer.runs == 0:
        assert written < 500, "the checkpointer did not run"
        db.execute("INSERT INTO t (body) VALUES (?)", ("y" * 3000,))
        written += 1
        time.sleep(LOOK_EVERY_SECONDS * 1.5)
        checkpointer.nudge()
        deadline = time.monotonic() + 5
        while checkpointer._busy and time.monotonic() < deadline:
            time.sleep(0.005)
    assert _log_frames(db) >= 40  # copied, not yet started again
    db.execute("INSERT INTO t (body) VALUES (?)", ("z",))  # the next writer starts over
    written += 1
    assert _log_frames(db) <= 3
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == written
    assert reader.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_it_reads_the_new_wal_index_after_sqlite_made_one(tmp_path):
    """When the last connection closes, SQLite deletes `-shm`, and the next connection makes
    a new one: the checkpointer must read that, not the deleted file it had open (the WAL
    would never seem to grow again)."""
    path = str(tmp_path / "db.sqlite3")
    db = _open(path)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    checkpointer = Checkpointer(path, f"{path}.writer", frames=10**6, timeout=5)
    checkpointer.nudge()  # opens `-shm`
    assert checkpointer._wal_counts() is not None
    db.close()  # the last connection: SQLite copies the WAL back and deletes both files
    assert not os.path.exists(f"{path}-shm")
    db = _open(path)
    for _ in range(5):
        db.execute("INSERT INTO t (body) VALUES (?)", ("x" * 3000,))
    counts = checkpointer._wal_counts()
    assert counts is not None and counts[0] == _log_frames(db) > 0


def test_the_second_copy_waits_for_the_writer_in_progress(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    db = _open(path)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    for _ in range(20):
        db.execute("INSERT INTO t (body) VALUES (?)", ("x" * 3000,))
    checkpointer = Checkpointer(path, f"{path}.writer", frames=1, timeout=5)
    held = os.open(f"{path}.writer", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)  # a writer is in its transaction
    own = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    lock = os.open(f"{path}.writer", os.O_RDWR)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (checkpointer.checkpoint(own, lock), done.set()))
    thread.start()
    assert not done.wait(0.3)  # the first copy ran; the second waits its turn
    fcntl.flock(held, fcntl.LOCK_UN)
    assert done.wait(5) and checkpointer.runs == 1
    thread.join()
    os.close(held)
    os.close(lock)


@pytest.mark.django_db(transaction=True)
def test_the_backend_hands_checkpoints_over_and_writers_lose_nothing(monkeypatch):
    connection.ensure_connection()
    checkpointer = connection._checkpointer
    assert checkpointer is not None  # settings: OPTIONS["checkpoint_frames"]
    monkeypatch.setattr(checkpointer, "frames", 20)
    runs = checkpointer.runs
    errors: list[BaseException] = []

    def write(i: int) -> None:
        from django.db import connections

        try:
            for j in range(40):
                with transaction.atomic():
                    Organization.objects.create(name=f"T{i}-{j}-" + "x" * 150)
                time.sleep(LOOK_EVERY_SECONDS / 3)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    run_threads(write, 4, indexed=True)
    assert errors == []
    _wait_for(checkpointer, runs + 1)
    assert Organization.objects.filter(name__startswith="T").count() == 160
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA integrity_check")
        assert cursor.fetchone()[0] == "ok"
