"""Times the Python segment counters on a corpus file, in a process of their own.

`python -m bench.segments_python CORPUS RUNS AT_LEAST` prints JSON: per counter its
seconds per pass and its counts. The npm peers run in a fresh node process; ours run in a
fresh Python process too, so that neither pays for the other's heap (in the benchmark's
own process, after the inbox benchmark, each garbage collection walked millions of
objects that counting never made, and moved our figure by a third).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def passes(fn: Any, texts: list[str], runs: int, at_least: float) -> tuple[list[float], list[Any]]:
    """Seconds of `runs` passes over `texts`, more until `at_least` seconds in all: a pass of
    a fast counter lasts a fraction of a second, and a short burst of other work on the
    machine would otherwise move the median (the peers' passes last seconds each)."""
    seconds: list[float] = []
    out: list[Any] = []
    while len(seconds) < runs or sum(seconds) < at_least:
        t0 = time.perf_counter()
        out = [fn(t) for t in texts]
        seconds.append(time.perf_counter() - t0)
    return seconds, out


def main(argv: list[str]) -> None:
    corpus, runs, at_least = Path(argv[0]), int(argv[1]), float(argv[2])
    texts = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    from hiretext.messaging import segments

    seconds, counts = passes(segments.count, texts, runs, at_least)
    result: dict[str, Any] = {"hiretext": {"seconds": seconds, "counts": [c[:2] for c in counts]}}
    try:
        import smsutil  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        seconds, _ = passes(lambda t: len(smsutil.split(t).parts), texts, runs, 0.0)
        result["smsutil"] = {"seconds": seconds}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
