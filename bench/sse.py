"""Placeholder."""

from typing import Any

from bench.core import Context, Unavailable


def run(ctx: Context, *args: Any) -> dict[str, Any]:
    raise Unavailable("not written yet")
