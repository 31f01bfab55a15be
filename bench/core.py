"""What every benchmark gets: the environment, the mode, the results so far, a printer."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from bench.env import BenchEnv
from bench.load import Request, Run, Series, ratio, write_requests, wrk

NOT_AVAILABLE = "not available yet"
# Smoke mode: long enough for every connection to get answers from warm servers, no longer.
SMOKE_RUN_SECONDS = 0.4
# The bare view (calibration's ceiling), measured again beside a benchmark's runs.
BARE = Request("GET", "/bench/bare")
BARE_SECONDS = 3.0


# `make_requests(i, count)`: run `i`'s requests (negative: a warm-up), about `count` distinct.
MakeRequests = Callable[[int, int], list[Request]]
# `after_run(i, requests, run)`: checks the invariants after run `i`.
AfterRun = Callable[[int, list[Request], Run], None]


@dataclass(frozen=True)
class Target:
    """What one server is measured with: its port, a label, its requests, its checks, and
    the length of its runs when not the measurement's."""

    port: int
    label: str
    make_requests: MakeRequests
    after_run: AfterRun | None = None
    seconds: float | None = None


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

    @property
    def pairs(self) -> int:
        """Runs of a goal's ratio made in turns with its partner (`measure_with_bare`, the
        scaling guard): five, as the median of three moved by a tenth between runs of the
        same code on a machine whose speed changes within seconds."""
        return 1 if self.smoke else 5

    def say(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.1f}s] {text}", flush=True)

    def ceiling(self, name: str) -> float:
        """A calibration figure (requests/s) measured earlier in this run; 0 if none."""
        value = self.results.get("calibration", {}).get(name, {}).get("rps", 0.0)
        return float(value)

    def against_calibration(
        self, rps: float, served_by: str, goal: float
    ) -> tuple[dict[str, float], list[str]]:
        """`rps` over the calibration's bare views, as fields and as report lines (one line
        saying so when this run measured no calibration: `--only` without it).

        Also over the one-row write (an INSERT through a raw cursor, committed): what a
        durable commit costs on this machine, and so how much of the goal (`goal`, a ratio
        to the bare view) is left for everything else a request does.
        """
        bare, machine = self.ceiling("bare"), self.ceiling("bare_machine")
        write = self.ceiling("insert_raw")
        if not bare:
            return {}, ["the calibration did not run in this invocation: no ratio to it"]
        fields = {
            "ratio_to_calibration": ratio(rps, bare),
            "ratio_to_bare_machine": ratio(rps, machine),
            "ratio_to_one_write": ratio(rps, write),
            "goal_to_one_write": ratio(goal * bare, write),
        }
        return fields, [
            f"against the calibration's bare view ({bare:.0f} req/s, earlier in the run): "
            f"{fields['ratio_to_calibration']:.3f}",
            f"for reference, {fields['ratio_to_bare_machine']:.3f} of the bare view on the "
            f"machine middleware that {served_by} are served by",
            f"against the calibration's one-row write (a raw-cursor INSERT, {write:.0f} req/s): "
            f"{fields['ratio_to_one_write']:.3f}; the goal is "
            f"{fields['goal_to_one_write']:.3f} of it on this machine",
        ]

    def measure(
        self,
        port: int,
        label: str,
        make_requests: MakeRequests,
        *,
        seconds: float,
        connections: int = 32,
        after_run: AfterRun | None = None,
    ) -> Series:
        """Warm up, then repeat runs of `seconds` replaying `make_requests(i, count)`.

        `count` is how many distinct requests a run may need (sized from the warm-up's
        rate; past it the file cycles); `after_run(i, requests, run)` checks invariants.
        """
        target = Target(port, label, make_requests, after_run)
        (series,) = self.measure_alternating([target], seconds=seconds, connections=connections)
        return series

    def measure_alternating(
        self,
        targets: Sequence[Target],
        *,
        seconds: float,
        connections: int = 32,
        repeats: int | None = None,
    ) -> list[Series]:
        """`measure` on several servers at once, their runs taking turns (the warm-ups,
        then A, B, A, B, …): a change in the machine's speed falls on each of them alike,
        and the runs of one round were made side by side. A series per target, in order."""
        run_once = [self._run_once(target, seconds, connections) for target in targets]
        for i in range(self.warmups):
            for once in run_once:
                once(-1 - i)
        runs: list[list[Run]] = [[] for _ in targets]
        for i in range(repeats or self.repeats):
            for k, target in enumerate(targets):
                run = run_once[k](i)
                self.say(
                    f"  {target.label}: {run.rps:8.1f} req/s  p50 {run.p50_ms:6.2f} ms  "
                    f"p99 {run.p99_ms:7.2f} ms  ({run.responses} responses, "
                    f"{run.non_2xx} non-2xx)"
                )
                runs[k].append(run)
        return [Series(target_runs) for target_runs in runs]

    def _run_once(self, target: Target, seconds: float, connections: int) -> Callable[[int], Run]:
        """One run of `target` (index `i`, negative for a warm-up) and its checks."""
        run_seconds = SMOKE_RUN_SECONDS if self.smoke else (target.seconds or seconds)
        state = {"count": 300 if self.smoke else 2000}

        def once(i: int) -> Run:
            requests = target.make_requests(i, state["count"])
            path = self.work / f"{target.label}-{i}.req"
            write_requests(path, requests)
            if self.smoke:
                warm(target.port, target.label, requests)
            run = wrk(
                target.port, path, seconds=2 if i < 0 else run_seconds, connections=connections
            )
            if self.smoke and run.responses == 0:
                # A run that served nothing would check its invariants on nothing.
                fail(f"{target.label}: no response in {run_seconds} s")
            if target.after_run is not None:
                target.after_run(i, requests, run)
            # The next run may be faster than this one (the warm-up's workers start cold):
            # size it with room, so that it does not cycle its requests (a cycled webhook
            # is a redelivery, which would change the mix measured).
            headroom = 2.0 if i < 0 else 1.5
            state["count"] = max(state["count"], int(run.rps * run_seconds * headroom) + 200)
            return run

        return once

    def measure_with_bare(
        self,
        port: int,
        label: str,
        make_requests: MakeRequests,
        *,
        seconds: float,
        after_run: AfterRun | None = None,
    ) -> tuple[Series, list[float]]:
        """`measure`, and the bare view on the same server right after each measured run:
        a ratio from the pair does not drift with the machine (its speed changed by a
        third between one benchmark and the next here). The bare view's rates, in order."""

        def check_bare(i: int, requests: list[Request], run: Run) -> None:
            if run.non_2xx or run.socket_errors or run.timeouts:
                fail(f"{label}: the bare view answered {run.non_2xx} non-2xx")

        measured, bare = self.measure_alternating(
            [
                Target(port, label, make_requests, after_run),
                Target(port, f"{label}-bare", lambda i, count: [BARE], check_bare, BARE_SECONDS),
            ],
            seconds=seconds,
            repeats=self.pairs,
        )
        return measured, bare.rates


def paired_ratio(series: Series, partner_rps: list[float]) -> float:
    """The median over repetitions of a run's rate over its partner's, the run made beside
    it (the bare view right after it, or the other server's in the same turn)."""
    ratios = [run.rps / other for run, other in zip(series.runs, partner_rps, strict=True) if other]
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


def fail(text: str) -> NoReturn:
    print(f"INVARIANT BROKEN: {text}", file=sys.stderr, flush=True)
    raise InvariantBroken(text)
