"""6. Scaling guard: webhook throughput with 2 web worker processes against 1, PostgreSQL.

Nothing in a worker may serialise the others (a process-wide lock, a hot row): two
processes must take ≥ 1.6× the webhooks of one. On SQLite (a single writer) the guard
does not apply and is skipped.
"""

from __future__ import annotations

from typing import Any

from bench import webhook
from bench.core import Context
from bench.load import ratio
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
    out: dict[str, Any] = {
        "one_process": {k: one[k] for k in ("rps", "p50_ms", "p99_ms", "runs")},
        "two_processes": {k: two[k] for k in ("rps", "p50_ms", "p99_ms", "runs")},
        "ratio": ratio(two["rps"], one["rps"]),
    }
    out["meets_goal"] = out["ratio"] >= GOAL
    out["lines"] = [
        f"webhooks with 2 web processes {two['rps']:.0f} req/s vs 1 process {one['rps']:.0f} "
        f"req/s = {out['ratio']:.2f}× (goal ≥ {GOAL})" + verdict(out["meets_goal"]),
    ]
    for line in out["lines"]:
        ctx.say(f"scaling: {line}")
    return out
