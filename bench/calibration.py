"""0. Calibration: the denominators of every ratio, on the production server and settings.

`bare` is Django's full request cycle returning 200 (the constant-200 ceiling); `insert`
adds one ORM INSERT in autocommit (the ceiling for a request that writes); `insert_raw`
does the same INSERT through a raw cursor (the ORM's own cost, by difference).
"""

from __future__ import annotations

from typing import Any

from bench.core import Context, fail
from bench.load import Request, Run, ratio
from bench.server import serving

ENDPOINTS = {
    "bare": Request("GET", "/bench/bare"),
    "insert": Request("POST", "/bench/insert"),
    "insert_raw": Request("POST", "/bench/insert-raw"),
}


def run(ctx: Context, workers: int) -> dict[str, Any]:
    out: dict[str, Any] = {"workers": workers}
    with serving(ctx.env, workers) as port:
        for name, request in ENDPOINTS.items():

            def requests(i: int, count: int, request: Request = request) -> list[Request]:
                return [request]

            def check(i: int, requests: list[Request], result: Run, name: str = name) -> None:
                errors = result.socket_errors + result.timeouts
                if result.non_2xx or errors:
                    fail(f"calibration {name}: {result.non_2xx} non-2xx, {errors} errors")

            series = ctx.measure(port, f"calibration-{name}", requests, seconds=4, after_run=check)
            out[name] = series.summary()
    out["insert_vs_bare"] = ratio(out["insert"]["rps"], out["bare"]["rps"])
    out["orm_insert_vs_raw"] = ratio(out["insert"]["rps"], out["insert_raw"]["rps"])
    bare, insert, raw = out["bare"], out["insert"], out["insert_raw"]
    out["lines"] = [
        f"bare view {bare['rps']:.0f} req/s (p50 {bare['p50_ms']:.1f} ms, "
        f"p99 {bare['p99_ms']:.1f} ms)",
        f"one ORM INSERT {insert['rps']:.0f} req/s = {out['insert_vs_bare']:.2f} of bare; "
        f"raw-cursor INSERT {raw['rps']:.0f} req/s",
    ]
    for line in out["lines"]:
        ctx.say(f"calibration: {line}")
    return out
