"""7. Servers (PostgreSQL): the same application and process count under gunicorn (the
default) and under granian (`hiretext serve --server granian`).

Both servers are up at once and their runs take turns (`Context.measure_alternating`):
the bare view, then the inbound webhook with the webhook benchmark's requests and checks.
The ratios are granian's rate over gunicorn's in the same turn, the median of the turns.
The goals' ratios are measured on the default server; this says what the other gives.
On SQLite it is skipped: granian calls the application from a thread, and SQLite's
writer lock needs each worker's main thread.
"""

from __future__ import annotations

from typing import Any

from bench import webhook
from bench.core import BARE, Context, Target, paired_ratio
from bench.server import serving

SERVERS = ("gunicorn", "granian")


def run(ctx: Context, workers: int) -> dict[str, Any]:
    if ctx.env.kind != "postgresql":
        return {"status": "skipped", "reason": "PostgreSQL only (granian is not for SQLite)"}
    from django.db import connection

    org = webhook.seed(ctx, "servers")
    connection.close()
    with (
        serving(ctx.env, workers) as gunicorn,
        serving(ctx.env, workers, extra_env={"HIRETEXT_SERVER": "granian"}) as granian,
    ):
        ports = dict(zip(SERVERS, (gunicorn, granian), strict=True))
        bare = ctx.measure_alternating(
            [
                Target(port, f"servers-bare-{name}", lambda i, c: [BARE])
                for name, port in ports.items()
            ],
            seconds=3,
        )
        streams = [webhook.Stream(ctx, org, f"sv-{name}", port) for name, port in ports.items()]
        hooks = ctx.measure_alternating([s.target() for s in streams], seconds=5)
    out: dict[str, Any] = {"workers": workers}
    for kind, (default, other) in (("bare", bare), ("webhook", hooks)):
        out[kind] = {
            name: {k: series.summary()[k] for k in ("rps", "p50_ms", "p99_ms", "runs")}
            for name, series in zip(SERVERS, (default, other), strict=True)
        }
        out[f"{kind}_ratio"] = paired_ratio(other, default.rates)
    out["checked_runs"] = sum(len(stream.checked) for stream in streams)

    def line(kind: str, what: str) -> str:
        g, r = out[kind]["gunicorn"], out[kind]["granian"]
        return (
            f"{what}: granian {r['rps']:.0f} req/s (p99 {r['p99_ms']:.1f} ms), gunicorn "
            f"{g['rps']:.0f} req/s (p99 {g['p99_ms']:.1f} ms): {out[f'{kind}_ratio']:.2f}×"
        )

    out["lines"] = [
        f"{workers} web processes each, runs in turns; " + line("bare", "bare view"),
        line("webhook", "webhooks"),
        f"invariants held after {out['checked_runs']} webhook runs",
    ]
    for text in out["lines"]:
        ctx.say(f"servers: {text}")
    return out
