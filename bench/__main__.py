"""`python -m bench` (make bench): every benchmark, results to bench/results/latest.json.

`--smoke` runs every benchmark end to end at a small scale and checks only that it runs and
that its invariants hold (make test, in seconds); timings are never asserted. Its load runs
last a fraction of a second, two web processes serve them, and the servers are started
once, ahead of need, and shared (bench.server). `--only NAME` runs a subset.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import server
from bench.core import NOT_AVAILABLE, Context, InvariantBroken, Unavailable
from bench.env import ROOT, BenchEnv
from bench.load import wrk_available

RESULTS = Path(__file__).with_name("results") / "latest.json"
SMOKE_WORKERS = 2
ORDER = ["calibration", "webhook", "send", "inbox", "segments", "sse", "scaling", "servers"]


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def versions(env: BenchEnv) -> dict[str, str]:
    import django
    import gunicorn  # type: ignore[import-untyped]

    out = {"django": django.get_version(), "gunicorn": gunicorn.__version__}
    if env.kind == "postgresql":
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            out["postgresql"] = cursor.fetchone()[0]
        connection.close()
    else:
        import sqlite3

        out["sqlite"] = sqlite3.sqlite_version
    try:
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
        out["wrk"] = (wrk.stdout or wrk.stderr).split("\n")[0].strip()
    except OSError:
        out["wrk"] = "missing"
    return out


def runners(ctx: Context, workers: int) -> dict[str, Callable[[], dict[str, Any]]]:
    from bench import calibration, inbox, scaling, segments_bench, send, servers, sse, webhook

    return {
        "calibration": lambda: calibration.run(ctx, workers),
        "webhook": lambda: webhook.run(ctx, workers),
        "send": lambda: send.run(ctx, workers),
        "inbox": lambda: inbox.run(ctx, workers),
        "segments": lambda: segments_bench.run(ctx),
        "sse": lambda: sse.run(ctx, workers),
        "scaling": lambda: scaling.run(ctx),
        "servers": lambda: servers.run(ctx, workers),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="seconds-long run; no timings")
    parser.add_argument("--only", action="append", choices=ORDER, help="run only these")
    parser.add_argument("--output", type=Path, help="results file (default: latest.json)")
    args = parser.parse_args(argv)

    if not wrk_available():
        print("wrk is missing: run `make bench-deps` (Debian's wrk) first.", file=sys.stderr)
        return 2
    if args.smoke:
        from bench import summary

        summary.SMOKE = True
    env = BenchEnv.from_environment(smoke=args.smoke)
    ctx = Context(env, smoke=args.smoke)
    ctx.say(f"database: {env.kind}; mode: {'smoke' if args.smoke else 'full'}; creating it")
    env.create()
    env.activate()
    from hiretext.accounts.management.commands.serve import default_workers

    workers = default_workers()
    if args.smoke:
        # Each web process's first requests load code (a second or so on a busy machine):
        # two processes still serve the runs side by side, at less start-up cost.
        workers = min(workers, SMOKE_WORKERS)
    ctx.say(f"web workers: {workers} ({os.cpu_count()} cores)")
    selected = [name for name in ORDER if not args.only or name in args.only]
    if args.smoke:
        ctx.env.shared = {}
        prestart(ctx, workers, selected, first=True)
    try:
        return run_all(args, env, ctx, workers, selected)
    finally:
        if env.shared:
            server.stop_shared(env)
            ctx.say("stopped the shared servers")


def prestart(ctx: Context, workers: int, selected: list[str], *, first: bool) -> None:
    """Smoke mode: boot the servers the benchmarks share ahead of need, in the background.

    First the web server (the first benchmark waits for it); once that one is up, the
    others, so their boots overlap the next benchmarks rather than the first boot.
    """
    from django.core.management import get_commands

    from bench import sse

    web = bool(set(selected) & {"calibration", "webhook", "send", "inbox", "sse"})
    if first and web:
        server.prestart(ctx.env, workers)
        return
    if "sse" in selected and "serve_events" in get_commands():
        sse.prestart_events(ctx)
    if "scaling" in selected and ctx.env.kind == "postgresql":
        for processes in (1, 2):
            server.prestart(ctx.env, processes)
    if "servers" in selected and ctx.env.kind == "postgresql":
        server.prestart(ctx.env, workers, {"HIRETEXT_SERVER": "granian"})


def run_all(
    args: argparse.Namespace, env: BenchEnv, ctx: Context, workers: int, selected: list[str]
) -> int:
    started = datetime.now(UTC)
    load_at_start = round(os.getloadavg()[0], 2)
    report: dict[str, Any] = {
        "database": env.kind,
        "mode": "smoke" if args.smoke else "full",
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(env),
        "web_workers": workers,
        "benchmarks": ctx.results,
    }
    failures = 0
    table = runners(ctx, workers)
    for name in selected:
        ctx.say(f"== {name}")
        t0 = time.monotonic()
        try:
            result = table[name]()
            result.setdefault("status", "ok")
        except Unavailable as exc:
            result = {"status": NOT_AVAILABLE, "reason": str(exc)}
            ctx.say(f"{name}: {NOT_AVAILABLE}: {exc}")
        except InvariantBroken as exc:
            failures += 1
            result = {"status": "invariant broken", "reason": str(exc)}
        except Exception as exc:  # noqa: BLE001 - report, go on with the others
            failures += 1
            traceback.print_exc()
            result = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        result["seconds"] = round(time.monotonic() - t0, 1)
        ctx.results[name] = result
        if args.smoke and name == selected[0]:
            prestart(ctx, workers, selected, first=False)
    report["seconds"] = round(time.monotonic() - ctx.started, 1)
    # Other work on the machine shows as noise; the load average tells how much there was.
    report["load_average"] = {"start": load_at_start, "end": round(os.getloadavg()[0], 2)}
    print_summary(report)
    output = args.output or (env.var_dir / "results.json" if args.smoke else RESULTS)
    save(output, report, merge=output == RESULTS, partial=bool(args.only))
    if output == RESULTS:
        from bench import report as markdown

        markdown.main()  # the results section of BENCHMARKS.md
    ctx.say(f"results: {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 1 if failures else 0


def save(path: Path, report: dict[str, Any], *, merge: bool, partial: bool = False) -> None:
    """latest.json keeps one section per database; a run replaces its own section (with
    `--only`, just the benchmarks it ran)."""
    data: dict[str, Any] = {}
    if merge and path.exists():
        try:
            data = json.loads(path.read_text())
        except ValueError:
            data = {}
    earlier = data.get(report["database"])
    if partial and earlier:
        ran, started = ", ".join(report["benchmarks"]), report["started_at"]
        report = {**report, "benchmarks": {**earlier["benchmarks"], **report["benchmarks"]}}
        report["benchmarks"] = {
            name: report["benchmarks"][name] for name in ORDER if name in report["benchmarks"]
        }
        # The section stays the full run's (its start, length and load); the later runs
        # are listed with what they measured again.
        for key in ("started_at", "seconds", "load_average"):
            report[key] = earlier.get(key, report[key])
        report["partial_runs"] = [
            *earlier.get("partial_runs", []),
            f"{started} ({ran})",
        ]
    data[report["database"]] = report
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def print_summary(report: dict[str, Any]) -> None:
    from bench.summary import lines

    print()
    for line in lines(report):
        print(line)


if __name__ == "__main__":
    sys.exit(main())
