"""`python -m bench.report`: the results section of BENCHMARKS.md from results/latest.json.

Rewrites what lies between the two RESULTS markers; the analysis around it is prose.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.__main__ import RESULTS

DOC = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
BEGIN, END = "<!-- RESULTS:BEGIN -->", "<!-- RESULTS:END -->"


def section(report: dict[str, Any]) -> list[str]:
    m, v = report["machine"], report["versions"]
    db = (
        "PostgreSQL " + v.get("postgresql", "")
        if report["database"] == "postgresql"
        else ("SQLite " + v.get("sqlite", ""))
    )
    out = [
        f"### {db} — {report['started_at']}, {report['seconds']:.0f} s",
        "",
        f"{m['cpu']}, {m['cores']} cores, {m['memory']}; {m['os']}; Python {m['python']}, "
        f"Django {v.get('django')}, gunicorn {v.get('gunicorn')}, {v.get('wrk')}; "
        f"{report['web_workers']} web worker processes; load average "
        f"{report.get('load_average', {}).get('start', '?')} at the start, "
        f"{report.get('load_average', {}).get('end', '?')} at the end (other work on the "
        "machine).",
        "",
    ]
    if report.get("partial_runs"):
        out += [
            "Measured again in later runs (`--only`): "
            + "; ".join(report["partial_runs"])
            + ". The rest are from the full run.",
            "",
        ]
    for name, result in report["benchmarks"].items():
        if result.get("status") != "ok":
            out.append(f"- **{name}**: {result.get('status')} — {result.get('reason', '')}")
            continue
        lines = result.get("lines", [])
        if lines:
            out.append(f"- **{name}**: {lines[0].strip()}")
            out.extend(f"  - {line.strip()}" for line in lines[1:])
    out.append("")
    return out


def _get(report: dict[str, Any] | None, *path: str) -> Any:
    value: Any = report["benchmarks"] if report else None
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


GOALS: list[tuple[str, str, tuple[str, ...], str]] = [
    # (what, goal, path to the figure, format)
    ("1 webhook / bare view", "≥ 0.35", ("webhook", "ratio_to_bare"), "{:.3f}"),
    ("1 webhook p99 at 32 connections", "≤ 50 ms", ("webhook", "p99_ms"), "{:.0f} ms"),
    ("1 webhook / one-row write", "(reference)", ("webhook",), "one_write"),
    ("2 send API / bare view", "≥ 0.25", ("send", "acceptance", "ratio_to_bare"), "{:.3f}"),
    ("2 send API p99", "≤ 50 ms", ("send", "acceptance", "p99_ms"), "{:.0f} ms"),
    (
        "2 send API / one-row write",
        "(reference)",
        ("send", "acceptance"),
        "one_write",
    ),
    ("2 exactly N accepted (N affordable, 3N sent)", "N", ("send", "exactly_n"), "exactly_n"),
    (
        "2 dispatch, segments/s per process",
        "≥ 250",
        ("send", "dispatch", "segments_per_s"),
        "{:.0f}",
    ),
    ("3 inbox worst p95", "< 30 ms", ("inbox", "worst_p95_ms"), "{:.1f} ms"),
    ("3 chat list depth 5,000 / first", "≤ 1.5", ("inbox", "depth_ratio", "chat_list"), "{:.2f}"),
    ("3 API list depth 5,000 / first", "≤ 1.5", ("inbox", "depth_ratio", "api_list"), "{:.2f}"),
    (
        "3 EXPLAIN: index range, row value, no OFFSET",
        "yes",
        ("inbox", "explain"),
        "explain",
    ),
    ("4 counts equal to Twilio's (mismatches)", "0", ("segments", "mismatches_with_twilio"), "{}"),
    ("4 ours / fastest peer", "≥ 10", ("segments", "ratio_to_fastest_peer"), "{:.1f}"),
    ("5 webhook → SSE p99", "< 250 ms", ("sse", "p99_ms"), "{:.0f} ms"),
    ("6 2 web processes / 1 (PostgreSQL)", "≥ 1.6", ("scaling", "ratio"), "{:.3f}"),
    ("WSGI / ASGI, bare view", "(why WSGI)", ("calibration", "wsgi_vs_asgi"), "{:.1f}×"),
    ("granian / gunicorn, bare view", "(which server)", ("servers", "bare_ratio"), "{:.2f}×"),
    ("granian / gunicorn, webhooks", "(which server)", ("servers", "webhook_ratio"), "{:.2f}×"),
]


def goals(data: dict[str, Any]) -> list[str]:
    sqlite, pg = data.get("sqlite"), data.get("postgresql")
    out = ["| figure | goal | SQLite | PostgreSQL |", "| --- | --- | --- | --- |"]
    for what, goal, path, fmt in GOALS:
        cells = []
        for report in (sqlite, pg):
            value = _get(report, *path)
            if value is None:
                cells.append("—")
            elif fmt == "exactly_n":
                cells.append(f"{value['accepted']} (N = {value['affordable']})")
            elif fmt == "one_write":
                cells.append(_one_write(value))
            elif fmt == "explain":
                ok = value["index_range"] and value["row_value_predicate"] and not value["offset"]
                cells.append("yes" if ok else "no")
            else:
                cells.append(fmt.format(value))
        out.append(f"| {what} | {goal} | {cells[0]} | {cells[1]} |")
    return [*out, ""]


def _one_write(result: dict[str, Any]) -> str:
    """A goal's request over the one-row write, and its goal in those terms: how the goal
    sits against what a commit costs on the machine (`Context.against_calibration`)."""
    if "ratio_to_one_write" not in result:
        return "—"
    return f"{result['ratio_to_one_write']:.3f} (goal {result['goal_to_one_write']:.3f})"


def render(data: dict[str, Any]) -> str:
    lines = [BEGIN, "", "#### Against the goals", "", *goals(data)]
    for key in ("sqlite", "postgresql"):
        if key in data:
            lines += section(data[key])
    lines.append(END)
    return "\n".join(lines)


def main() -> int:
    data = json.loads(RESULTS.read_text())
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        print(f"{DOC.name} has no results markers", file=sys.stderr)
        return 1
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(head + render(data) + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
