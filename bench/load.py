"""Load from a separate process on loopback: wrk replaying precomputed requests."""

from __future__ import annotations

import json
import math
import shutil
import signal
import statistics
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).with_name("load.lua")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""

    def line(self) -> str:
        assert "\t" not in self.path and "\n" not in self.body and "\t" not in self.body
        headers = "\x1f".join(f"{k}: {v}" for k, v in self.headers)
        return f"{self.method}\t{self.path}\t{headers}\t{self.body}"


def write_requests(path: Path, requests: Iterable[Request]) -> int:
    lines = [r.line() for r in requests]
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


@dataclass
class Run:
    """One wrk run: throughput and latency (ms), with exact response accounting."""

    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    responses: int
    issued: int
    non_2xx: int
    socket_errors: int
    timeouts: int
    seconds: float

    @classmethod
    def from_wrk(cls, data: dict[str, float]) -> Run:
        seconds = data["duration_us"] / 1e6
        return cls(
            rps=data["responses"] / seconds if seconds else 0.0,
            p50_ms=data["p50_us"] / 1000,
            p90_ms=data["p90_us"] / 1000,
            p95_ms=data["p95_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            max_ms=data["max_us"] / 1000,
            responses=int(data["responses"]),
            issued=int(data["issued"]),
            non_2xx=int(data["non_2xx"]),
            socket_errors=int(data["socket_errors"]),
            timeouts=int(data["timeouts"]),
            seconds=seconds,
        )


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk(port: int, requests_file: Path, *, seconds: float, connections: int = 32) -> Run:
    """Replay `requests_file` (cycling) with `connections` connections for `seconds`.

    Time-bounded: wrk cannot end a run early, so a count bound would wait out the time.
    wrk's `-d` counts whole seconds; a shorter run (smoke mode) is ended by SIGINT, after
    which wrk stops its thread and reports what it measured, as at the end of `-d`.
    """
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, math.ceil(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(requests_file),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if seconds < 1:
            time.sleep(seconds)
            proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=seconds + 60)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"wrk exited with {proc.returncode}:\n{stdout}\n{stderr}")
    for line in stdout.splitlines():
        if line.startswith("BENCHJSON "):
            return Run.from_wrk(json.loads(line.removeprefix("BENCHJSON ")))
    raise RuntimeError(f"wrk printed no result:\n{stdout}\n{stderr}")


@dataclass
class Series:
    """Repeated runs of one measurement; the median is what is reported."""

    runs: list[Run]

    @property
    def rates(self) -> list[float]:
        """Each run's requests per second, in order (a paired ratio's partner)."""
        return [run.rps for run in self.runs]

    def median(self, attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in self.runs))

    def summary(self) -> dict[str, object]:
        return {
            "rps": round(self.median("rps"), 1),
            "p50_ms": round(self.median("p50_ms"), 2),
            "p95_ms": round(self.median("p95_ms"), 2),
            "p99_ms": round(self.median("p99_ms"), 2),
            "runs": [round(r.rps, 1) for r in self.runs],
            "responses": sum(r.responses for r in self.runs),
            "non_2xx": sum(r.non_2xx for r in self.runs),
            "socket_errors": sum(r.socket_errors for r in self.runs),
            "timeouts": sum(r.timeouts for r in self.runs),
        }


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else 0.0


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]
