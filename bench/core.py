"""What every benchmark gets: the environment, the mode, the results so far, a printer."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.env import BenchEnv
from bench.load import Request, Run, Series, repeat, write_requests, wrk

NOT_AVAILABLE = "not available yet"


class Unavailable(Exception):  # noqa: N818 - reads as a status
    """The feature under test has not landed; the benchmark reports so, with no numbers."""


class InvariantBroken(AssertionError):
    pass


@dataclass
class Context:
    env: BenchEnv
    smoke: bool
    results: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def work(self) -> Path:
        path = self.env.var_dir / "work"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def warmups(self) -> int:
        return 0 if self.smoke else 1

    @property
    def repeats(self) -> int:
        return 1 if self.smoke else 3

    def say(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.1f}s] {text}", flush=True)

    def ceiling(self, name: str) -> float:
        """A calibration figure (requests/s) measured earlier in this run."""
        value = self.results.get("calibration", {}).get(name, {}).get("rps", 0.0)
        return float(value)

    def measure(
        self,
        port: int,
        label: str,
        make_requests: Any,
        *,
        seconds: float,
        connections: int = 32,
        after_run: Any = None,
    ) -> Series:
        """Warm up, then repeat runs of `seconds` replaying `make_requests(i, count)`.

        `count` is how many distinct requests a run may need (sized from the warm-up's
        rate; past it the file cycles); `after_run(i, requests, run)` checks invariants.
        """
        run_seconds = 1.0 if self.smoke else seconds
        state = {"count": 300 if self.smoke else 2000}

        def once(i: int) -> Run:
            requests: list[Request] = make_requests(i, state["count"])
            path = self.work / f"{label}-{i}.req"
            write_requests(path, requests)
            run = wrk(port, path, seconds=2 if i < 0 else run_seconds, connections=connections)
            if after_run is not None:
                after_run(i, requests, run)
            if i < 0:
                state["count"] = max(state["count"], int(run.rps * run_seconds * 1.5) + 200)
            return run

        def report(run: Run) -> None:
            self.say(
                f"  {label}: {run.rps:8.1f} req/s  p50 {run.p50_ms:6.2f} ms  "
                f"p99 {run.p99_ms:7.2f} ms  ({run.responses} responses, {run.non_2xx} non-2xx)"
            )

        return repeat(once, warmups=self.warmups, repeats=self.repeats, on_run=report)


def fail(text: str) -> None:
    print(f"INVARIANT BROKEN: {text}", file=sys.stderr, flush=True)
    raise InvariantBroken(text)
