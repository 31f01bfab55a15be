"""The ratios and goals of one run, as printed at the end of `make bench`."""

from __future__ import annotations

from typing import Any

SMOKE = False  # set by `python -m bench --smoke`: timings mean nothing there


def verdict(ok: bool | None) -> str:
    if ok is None or SMOKE:
        return ""
    return "  [meets goal]" if ok else "  [BELOW GOAL]"


def lines(report: dict[str, Any]) -> list[str]:
    out = [
        f"== hiretext benchmarks on {report['database']} ({report['mode']}): "
        f"{report['machine']['cores']} cores, {report['web_workers']} web workers"
    ]
    for name, result in report["benchmarks"].items():
        if result.get("status") != "ok":
            out.append(f"{name:12} {result.get('status')}: {result.get('reason', '')}")
            continue
        out.extend(f"{name:12} {line}" for line in result.get("lines", []))
    if report["mode"] == "smoke":
        out.append("smoke run: each benchmark ran and its invariants held; timings mean nothing")
    out.append(f"total {report.get('seconds', 0):.0f} s")
    return out
