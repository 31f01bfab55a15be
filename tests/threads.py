"""Running a test's work in parallel threads (each with its own database connection)."""

import threading
from collections.abc import Callable
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
