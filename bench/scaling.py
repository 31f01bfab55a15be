"""6. Scaling guard: webhook throughput with 2 web worker processes against 1, PostgreSQL.

Nothing in a worker may serialise the others (a process-wide lock, a hot row): two
processes must take ≥ 1.6× the webhooks of one. On SQLite (a single writer) the guard
does not apply and is skipped.

For reference, the same two measurements of the calibration's one-INSERT request: what
the machine itself gives a second process when the web processes, PostgreSQL and the
load generator share its cores (on 2 cores, once one web process keeps a core busy, a
second finds only what PostgreSQL and wrk leave of the other).
"""

from __future__ import annotations

from typing import Any

from bench import webhook
from bench.calibration import ENDPOINTS
from bench.core import Context
from bench.load import ratio
from bench.server import serving
from bench.summary import verdict

GOAL = 1.6


def run(ctx: Context) -> dict[str, Any]:
    if ctx.env.kind != "postgresql":
        return {
            "status": "skipped",
            "reason": "PostgreSQL only (SQLite has one writer); set DATABASE_URL",
        }
    one = webhook.run(ctx, 1, label="scale1", seconds=5)
    two = webhook.run(ctx, 2, label="scale2", seconds=5)
    insert = {n: _insert_rps(ctx, n) for n in (1, 2)}
    out: dict[str, Any] = {
        "one_process": {k: one[k] for k in ("rps", "p50_ms", "p99_ms", "runs")},
        "two_processes": {k: two[k] for k in ("rps", "p50_ms", "p99_ms", "runs")},
        "ratio": ratio(two["rps"], one["rps"]),
        "insert_rps": insert,
        "insert_ratio": ratio(insert[2], insert[1]),
    }
    out["meets_goal"] = out["ratio"] >= GOAL
    out["lines"] = [
        f"webhooks with 2 web processes {two['rps']:.0f} req/s vs 1 process {one['rps']:.0f} "
        f"req/s = {out['ratio']:.2f}× (goal ≥ {GOAL})" + verdict(out["meets_goal"]),
        f"the machine, for reference: the one-INSERT request {insert[2]:.0f} vs "
        f"{insert[1]:.0f} req/s = {out['insert_ratio']:.2f}×",
    ]
    for line in out["lines"]:
        ctx.say(f"scaling: {line}")
    return out


def _insert_rps(ctx: Context, workers: int) -> float:
    with serving(ctx.env, workers) as port:
        series = ctx.measure(
            port, f"scaling-insert-{workers}", lambda i, c: [ENDPOINTS["insert"]], seconds=3
        )
    return float(series.summary()["rps"])
