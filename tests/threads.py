"""Running a test's work in parallel threads (each with its own database connection)."""

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any


def run_threads(
    target: Callable[..., Any], count: int, *, timeout: float | None = 60, indexed: bool = False
) -> None:
    """Start `count` threads on `target` (given the thread's index when `indexed`) and wait
    for all of them. `target` closes its own connections and reports its own errors."""
    threads = [threading.Thread(target=target, args=(i,) if indexed else ()) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)


@contextlib.contextmanager
def held_in_another_transaction(*statements: tuple[str, list[Any]]) -> Iterator[None]:
    """Run `statements` in a transaction on another thread's connection and keep it open
    (its locks held) until the block ends; then it commits and the connection closes."""
    from django.db import connections, transaction

    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic(), connections["default"].cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        if not locked.wait(10):
            raise TimeoutError("the other transaction did not take its locks")
        yield
    finally:
        release.set()
        holder.join()
