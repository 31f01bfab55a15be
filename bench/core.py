"""What every benchmark gets: the environment, the mode, the results so far, a printer."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.env import BenchEnv
from bench.load import Request, Run, Series, repeat, write_requests, wrk

NOT_AVAILABLE = "not available yet"
# Smoke mode: long enough for every connection to get answers from warm servers, no longer.
SMOKE_RUN_SECONDS = 0.4
# The bare view (calibration's ceiling), measured again beside a benchmark's runs.
BARE = Request("GET", "/bench/bare")
BARE_SECONDS = 3.0


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
        run_seconds = SMOKE_RUN_SECONDS if self.smoke else seconds
        state = {"count": 300 if self.smoke else 2000}

        def once(i: int) -> Run:
            requests: list[Request] = make_requests(i, state["count"])
            path = self.work / f"{label}-{i}.req"
            write_requests(path, requests)
            if self.smoke:
                warm(port, label, requests)
            run = wrk(port, path, seconds=2 if i < 0 else run_seconds, connections=connections)
            if self.smoke and run.responses == 0:
                # A run that served nothing would check its invariants on nothing.
                fail(f"{label}: no response in {run_seconds} s")
            if after_run is not None:
                after_run(i, requests, run)
            # The next run may be faster than this one (the warm-up's workers start cold):
            # size it with room, so that it does not cycle its requests (a cycled webhook
            # is a redelivery, which would change the mix measured).
            headroom = 2.0 if i < 0 else 1.5
            state["count"] = max(state["count"], int(run.rps * run_seconds * headroom) + 200)
            return run

        def report(run: Run) -> None:
            self.say(
                f"  {label}: {run.rps:8.1f} req/s  p50 {run.p50_ms:6.2f} ms  "
                f"p99 {run.p99_ms:7.2f} ms  ({run.responses} responses, {run.non_2xx} non-2xx)"
            )

        return repeat(once, warmups=self.warmups, repeats=self.repeats, on_run=report)

    def measure_with_bare(
        self, port: int, label: str, make_requests: Any, *, seconds: float, after_run: Any = None
    ) -> tuple[Series, list[float]]:
        """`measure`, and the bare view on the same server right after each measured run:
        a ratio from the pair does not drift with the machine (its speed changed by a
        third between one benchmark and the next here). The bare view's rates, in order."""
        bare_file = self.work / "bare-paired.req"
        write_requests(bare_file, [BARE])
        bare_rps: list[float] = []

        def after(i: int, requests: list[Request], run: Run) -> None:
            if after_run is not None:
                after_run(i, requests, run)
            if i < 0:
                return
            bare = wrk(port, bare_file, seconds=SMOKE_RUN_SECONDS if self.smoke else BARE_SECONDS)
            if bare.non_2xx or bare.socket_errors or bare.timeouts:
                fail(f"{label}: the bare view answered {bare.non_2xx} non-2xx")
            self.say(f"  {label}, then the bare view: {bare.rps:8.1f} req/s")
            bare_rps.append(bare.rps)

        series = self.measure(port, label, make_requests, seconds=seconds, after_run=after)
        return series, bare_rps


def paired_ratio(series: Series, bare_rps: list[float]) -> float:
    """The median over repetitions of a run's rate over the bare view's right after it."""
    ratios = [run.rps / bare for run, bare in zip(series.runs, bare_rps, strict=True) if bare]
    return round(float(statistics.median(ratios)), 3) if ratios else 0.0


def settle[T](read: Callable[[], T], done: Callable[[T], bool], seconds: float = 10.0) -> T:
    """`read()` again until `done` says its answer is complete, or `seconds` have passed.

    wrk stopping does not stop the server: what it accepted last (or a slow first request
    of a worker) may still be landing when the checks begin.
    """
    deadline = time.monotonic() + seconds
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
    return value


def warm(port: int, label: str, requests: list[Request]) -> None:
    """Smoke mode: the run's first two requests, twice each, one at a time, before it.

    A worker's first request down a path loads its code; in a run of a fraction of a
    second that can leave no response at all. The checks after a run already deliver
    these two again (wrk may draw a request it never sends), so they stay exact.
    """
    from bench.signing import post

    for request in [*requests[:2], *requests[:2]]:
        status = post(port, request)
        if not 200 <= status < 300:
            fail(f"{label}: warming up, {request.method} {request.path} answered {status}")


def fail(text: str) -> None:
    print(f"INVARIANT BROKEN: {text}", file=sys.stderr, flush=True)
    raise InvariantBroken(text)
