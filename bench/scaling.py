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
from bench.core import Context, Target, paired_ratio
from bench.server import serving
from bench.summary import verdict

GOAL = 1.6


def run(ctx: Context) -> dict[str, Any]:
    if ctx.env.kind != "postgresql":
        return {
            "status": "skipped",
            "reason": "PostgreSQL only (SQLite has one writer); set DATABASE_URL",
        }
    from django.db import connection

    org = webhook.seed(ctx, "scale")
    connection.close()
    with serving(ctx.env, 1) as one, serving(ctx.env, 2) as two:
        streams = [webhook.Stream(ctx, org, f"scale{n}", port) for n, port in ((1, one), (2, two))]
        targets = [s.target() for s in streams]
        by_processes = ctx.measure_alternating(targets, seconds=5, repeats=ctx.pairs)
        inserts = ctx.measure_alternating(
            [
                Target(port, f"scaling-insert-{n}", lambda i, c: [ENDPOINTS["insert"]])
                for n, port in ((1, one), (2, two))
            ],
            seconds=3,
            repeats=ctx.pairs,
        )
    one_run, two_run = (series.summary() for series in by_processes)
    insert = {n: series.median("rps") for n, series in zip((1, 2), inserts, strict=True)}
    out: dict[str, Any] = {
        "one_process": {k: one_run[k] for k in ("rps", "p50_ms", "p99_ms", "runs")},
        "two_processes": {k: two_run[k] for k in ("rps", "p50_ms", "p99_ms", "runs")},
        "ratio": paired_ratio(by_processes[1], by_processes[0].rates),
        "insert_rps": insert,
        "insert_ratio": paired_ratio(inserts[1], inserts[0].rates),
        "checked_runs": sum(len(stream.checked) for stream in streams),
    }
    out["meets_goal"] = out["ratio"] >= GOAL
    out["lines"] = [
        f"webhooks with 2 web processes {two_run['rps']:.0f} req/s vs 1 process "
        f"{one_run['rps']:.0f} req/s: {out['ratio']:.2f}× (goal ≥ {GOAL}; the median of "
        "runs made in turns)" + verdict(out["meets_goal"]),
        f"the machine, for reference: the one-INSERT request {insert[2]:.0f} vs "
        f"{insert[1]:.0f} req/s = {out['insert_ratio']:.2f}×",
        f"invariants held after {out['checked_runs']} runs: messages = unique ids, unread, "
        "timeline, 0 non-2xx",
    ]
    for line in out["lines"]:
        ctx.say(f"scaling: {line}")
    return out
