"""The Python segment counters, timed pass by pass in a process of their own.

`python -m bench.segments_python CORPUS AT_LEAST` prints one JSON line naming the counters
it has (`hiretext`, and `smsutil` when installed), then answers each line read on stdin:
`counts` with our count of every text, a counter's name with a turn of that counter,
`{"seconds": s, "passes": n}`: whole passes over the corpus until AT_LEAST seconds. The
benchmark asks for turns of every counter in rotation (`bench.segments_bench`), so a slow
spell of the machine falls on all of them alike.

The npm peers run in a node process of their own; ours run in a fresh Python process too,
so that neither pays for the other's heap (in the benchmark's own process, after the inbox
benchmark, each garbage collection walked millions of objects that counting never made,
and moved our figure by a third).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def turn(fn: Callable[[str], Any], texts: list[str], at_least: float) -> dict[str, float]:
    """Whole passes over `texts` until `at_least` seconds: a pass of a fast counter lasts a
    fraction of a second, and a short burst of other work would otherwise move it."""
    passes, seconds = 0, 0.0
    while passes == 0 or seconds < at_least:
        t0 = time.perf_counter()
        for text in texts:
            fn(text)
        seconds += time.perf_counter() - t0
        passes += 1
    return {"seconds": seconds, "passes": passes}


def counters() -> dict[str, Callable[[str], Any]]:
    from hiretext.messaging import segments

    found: dict[str, Callable[[str], Any]] = {"hiretext": segments.count}
    try:
        import smsutil
    except ImportError:
        pass
    else:
        found["smsutil"] = lambda t: len(smsutil.split(t).parts)
    return found


def main(argv: list[str]) -> None:
    corpus, at_least = Path(argv[0]), float(argv[1])
    texts = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    found = counters()

    def answer(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    answer({"counters": sorted(found)})
    for line in sys.stdin:
        command = line.strip()
        if command == "counts":
            count = found["hiretext"]
            answer({"counts": [count(t)[:2] for t in texts]})
        elif command in found:
            answer(turn(found[command], texts, at_least))
        else:
            answer({"error": f"unknown command {command!r}"})


if __name__ == "__main__":
    main(sys.argv[1:])
