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
    # Where webhooks and bearer-token API calls are served (hiretext.lib.wsgi): for reference.
    "bare_machine": Request("GET", "/webhooks/bench/bare"),
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

            series = ctx.measure(port, f"calibration-{name}", requests, seconds=3, after_run=check)
            out[name] = series.summary()
    asgi = asgi_ceiling(ctx, workers)
    if asgi is not None:
        out["bare_asgi"] = asgi
        out["wsgi_vs_asgi"] = ratio(out["bare"]["rps"], asgi["rps"])
    out["insert_vs_bare"] = ratio(out["insert"]["rps"], out["bare"]["rps"])
    out["orm_insert_vs_raw"] = ratio(out["insert"]["rps"], out["insert_raw"]["rps"])
    bare, insert, raw = out["bare"], out["insert"], out["insert_raw"]
    out["lines"] = [
        f"bare view {bare['rps']:.0f} req/s (p50 {bare['p50_ms']:.1f} ms, "
        f"p99 {bare['p99_ms']:.1f} ms); on the machine middleware of webhooks and API "
        f"calls {out['bare_machine']['rps']:.0f} req/s",
        f"one ORM INSERT {insert['rps']:.0f} req/s = {out['insert_vs_bare']:.2f} of bare; "
        f"raw-cursor INSERT {raw['rps']:.0f} req/s",
    ]
    if asgi is not None:
        out["lines"].append(
            f"the same bare view under ASGI (gunicorn's asgi worker, {workers} processes): "
            f"{asgi['rps']:.0f} req/s, p99 {asgi['p99_ms']:.1f} ms; WSGI serves "
            f"{out['wsgi_vs_asgi']:.1f}× as many"
        )
    for line in out["lines"]:
        ctx.say(f"calibration: {line}")
    return out


def asgi_ceiling(ctx: Context, workers: int) -> dict[str, Any] | None:
    """The bare view behind the ASGI server of the event stream: why pages stay on WSGI."""
    from django.core.management import get_commands

    if ctx.smoke or "serve_events" not in get_commands():
        return None
    from bench.sse import serving_events

    with serving_events(ctx, workers) as port:
        series = ctx.measure(
            port, "calibration-bare-asgi", lambda i, c: [ENDPOINTS["bare"]], seconds=3
        )
    return series.summary()
