"""WAL checkpoints copied beside the writers, not in their queue.

SQLite copies the WAL back into the database (a checkpoint) inside the COMMIT that takes
the WAL past `wal_autocheckpoint` pages, while that writer still holds the writer lock:
every other writer waits. At 10,000 pages that is about 25 ms, twice a second under
load, and it set the p99 of inbound webhooks. Copying is the cost (an fsync here takes
0.1 ms), so each process's checkpointer thread copies the WAL while writers go on, then
queues as a writer once to copy the few pages written meanwhile. With every page copied
and no write in between, the next writer starts the WAL again from its beginning, which
a checkpoint beside busy writers never allows on its own. `wal_autocheckpoint` stays as
the backstop.
"""

import fcntl
import logging
import os
import sqlite3
import struct
import threading
import time

logger = logging.getLogger(__name__)

# The wal-index header: mxFrame (u32 at byte 16) … nBackfill (u32 at byte 96).
_HEADER = struct.Struct("=16xI76xI")
# Once a checkpoint is done but the WAL did not start over (a reader was still on an
# older snapshot), the next one waits for this fraction of `frames` new pages.
AGAIN_AFTER = 10
# A process reads the WAL's length at most this often (a read per commit otherwise).
LOOK_EVERY_SECONDS = 0.005


class Checkpointer:
    """One per process and database file: a thread that checkpoints when nudged."""

    def __init__(self, path: str, writer_lock_path: str, frames: int, timeout: float) -> None:
        self.path = path
        self.writer_lock_path = writer_lock_path
        self.frames = frames
        self.timeout = timeout
        self.pid = os.getpid()
        self.runs = 0  # completed checkpoints (tests, diagnostics)
        self._shm: int | None = None
        self._next_look = 0.0
        self._wake = threading.Event()
        self._busy = False
        self._thread: threading.Thread | None = None

    def nudge(self) -> None:
        """After a commit: wake the thread if the WAL holds `frames` pages and a good part
        of them is not copied yet."""
        now = time.monotonic()
        if self._busy or now < self._next_look:
            return
        self._next_look = now + LOOK_EVERY_SECONDS
        counts = self._wal_counts()
        if counts is None:
            return
        in_wal, copied = counts
        if in_wal < self.frames or in_wal - copied < self.frames // AGAIN_AFTER:
            return
        self._busy = True
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="sqlite-checkpointer", daemon=True
            )
            self._thread.start()
        self._wake.set()

    def _wal_counts(self) -> tuple[int, int] | None:
        """(pages in the WAL since it last started over, pages of them copied back), read
        from the wal-index header in `-shm` (sqlite.org/walformat.html: `mxFrame` at byte
        16, `nBackfill` at byte 96, native byte order). The WAL file keeps its size when it
        starts over, so its size says nothing."""
        try:
            if self._shm is not None and os.fstat(self._shm).st_nlink == 0:
                # The last connection closed and SQLite deleted the file; a new one is made.
                os.close(self._shm)
                self._shm = None
            if self._shm is None:
                self._shm = os.open(f"{self.path}-shm", os.O_RDONLY)
            header = os.pread(self._shm, _HEADER.size, 0)
        except OSError:
            return None
        if len(header) < _HEADER.size:
            return None
        in_wal, copied = _HEADER.unpack(header)
        return int(in_wal), int(copied)

    def _run(self) -> None:
        db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        lock = os.open(self.writer_lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                self.checkpoint(db, lock)
            except sqlite3.Error:
                logger.warning("background checkpoint failed", exc_info=True)
            finally:
                self._busy = False

    def checkpoint(self, db: sqlite3.Connection, lock: int) -> None:
        """Copy the WAL beside the writers, then the rest as a writer (a short wait)."""
        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        fcntl.flock(lock, fcntl.LOCK_EX)  # another thread: the kernel wakes it in turn
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
        self.runs += 1


_checkpointers: dict[str, Checkpointer] = {}
_made = threading.Lock()


def checkpointer_for(path: str, writer_lock_path: str, frames: int, timeout: float) -> Checkpointer:
    """This process's checkpointer for `path` (a forked worker gets its own)."""
    found = _checkpointers.get(path)
    if found is not None and found.pid == os.getpid():
        return found
    with _made:
        found = _checkpointers.get(path)
        if found is None or found.pid != os.getpid():
            found = _checkpointers[path] = Checkpointer(path, writer_lock_path, frames, timeout)
    return found
