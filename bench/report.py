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


def render(data: dict[str, Any]) -> str:
    lines = [BEGIN, ""]
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
