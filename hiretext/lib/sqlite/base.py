"""Django's SQLite backend, with writers queued on a lock file instead of SQLite's busy wait.

SQLite has one writer. A connection that finds the write lock taken retries after sleeping
1, 2, 5, 10, 15… ms (its busy handler), so with a few processes writing short transactions
most of the time goes to sleeping: inbound webhooks from 3 web processes measured a p50 of
140 ms for about 1 ms of work each. Here every transaction first takes an exclusive
`flock` on `<database>.writer`, which the kernel hands to the next waiter the moment it is
released, then runs `BEGIN IMMEDIATE` on an uncontended database. Readers never queue (WAL).

A writer waits at most the database's `timeout` (as SQLite's busy timeout would), then
fails as SQLite does ("database is locked"). The main thread (every request of a sync web
worker) waits inside the kernel, woken the moment the lock is released, its wait bounded by
a SIGALRM timer; polling every 0.2 ms instead left the lock idle for up to a poll between two
writers, and inbound webhooks measured 9 % fewer a second. Other threads (the task worker's
loops) cannot take signals, so they poll.

OPTIONS["checkpoint_frames"] hands WAL checkpoints to a thread of each process that copies
them beside the writers (`checkpoint`); 0 or absent leaves them to SQLite.
"""

import fcntl
import os
import signal
import threading
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from hiretext.lib.sqlite.checkpoint import Checkpointer, checkpointer_for

POLL_SECONDS = 0.0002


class _WaitedTooLong(Exception):
    """Raised by the SIGALRM handler to interrupt a blocking flock."""


def _interrupt(signum: int, frame: Any) -> None:
    raise _WaitedTooLong


def _wait_in_kernel(fd: int, timeout: float) -> bool:
    """Block on the lock until it is ours (True) or `timeout` passes (OperationalError).

    False when this thread cannot use SIGALRM: not the main thread, or the process already
    uses the real-time timer or the signal for something else (left untouched).
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, signal.SIG_IGN, None):
        return False
    if signal.getitimer(signal.ITIMER_REAL)[0]:
        return False
    previous = signal.signal(signal.SIGALRM, _interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, max(timeout, 0.001))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _WaitedTooLong:
        # The timer may have fired just as the lock came: one last try tells.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OperationalError("database is locked") from None
    finally:
        signal.signal(signal.SIGALRM, previous)
    return True


def _poll(fd: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        time.sleep(POLL_SECONDS)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise OperationalError("database is locked") from None


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer_fd: int | None = None
        self._writer_held = False
        self._checkpointer: Checkpointer | None = None

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        frames = int(params.pop("checkpoint_frames", 0) or 0)
        if frames > 0 and not self.is_in_memory_db():
            name = str(self.settings_dict["NAME"])
            self._checkpointer = checkpointer_for(
                name, f"{name}.writer", frames, float(params.get("timeout", 5))
            )
        return params

    def _writer_lock_fd(self) -> int | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db():
            return None
        if self._writer_fd is None:
            self._writer_fd = os.open(f"{name}.writer", os.O_RDWR | os.O_CREAT, 0o600)
        return self._writer_fd

    def _take_writer_lock(self) -> None:
        fd = self._writer_lock_fd()
        if fd is None or self._writer_held:
            return
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not _wait_in_kernel(fd, timeout):
                _poll(fd, timeout)
        self._writer_held = True

    def _release_writer_lock(self) -> None:
        if self._writer_held and self._writer_fd is not None:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
        self._writer_held = False

    def _start_transaction_under_autocommit(self) -> None:
        self._take_writer_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self) -> Any:
        try:
            committed = super()._commit()  # type: ignore[misc]
        finally:
            self._release_writer_lock()
        if self._checkpointer is not None:
            self._checkpointer.nudge()
        return committed

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_writer_lock()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release_writer_lock()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None
