"""4. Segment counting: ours against the peers, on the same mixed corpus.

Peers: Twilio's `sms-segments-calculator` (the reference: our count must equal its count
on every message), `split-sms` (npm) and `smsutil` (PyPI, `pip install '.[bench]'`).
Throughput is messages per second, single core; the ratio is ours to the fastest peer.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.core import Context, Unavailable
from bench.corpus import corpus
from bench.summary import verdict

NODE_DIR = Path(__file__).with_name("node")
GOAL_RATIO = 10.0


def _time(fn: Any, texts: list[str], runs: int, at_least: float = 0.0) -> tuple[float, list[Any]]:
    """Median seconds of `runs` passes over `texts`, more until `at_least` seconds in all:
    a pass of a fast counter lasts a fraction of a second, and a short burst of another
    process on the machine would otherwise move the median (the peers' passes last
    seconds each)."""
    seconds, out = [], []
    while len(seconds) < runs or sum(seconds) < at_least:
        t0 = time.perf_counter()
        out = [fn(t) for t in texts]
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds), out


def run(ctx: Context) -> dict[str, Any]:
    from hiretext.messaging import segments

    if not (NODE_DIR / "node_modules" / "sms-segments-calculator").is_dir() or not shutil.which(
        "node"
    ):
        raise Unavailable("the npm peers are not installed: run `make bench-deps`")
    # Smoke: 500 messages still hold every shape of the corpus (the rarest is 4 %), and
    # Twilio's calculator, at about 2 ms a message, is most of this benchmark's time.
    size = 500 if ctx.smoke else 100_000
    texts = corpus(size)
    path = ctx.work / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in texts) + "\n")
    runs = 1 if ctx.smoke else 3
    ctx.say(f"segments: {size} messages; Twilio's calculator once, the others {runs}×")
    node = subprocess.run(
        ["node", str(NODE_DIR / "peers.js"), str(path), "1", str(runs)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    peers = json.loads(node.stdout)
    ours_s, ours = _time(segments.count, texts, runs, at_least=0 if ctx.smoke else 3.0)
    rates: dict[str, float] = {"hiretext": size / ours_s}
    rates["sms-segments-calculator (Twilio)"] = size / statistics.median(peers["twilio"]["seconds"])
    rates["split-sms"] = size / statistics.median(peers["split_sms"]["seconds"])
    try:
        import smsutil  # type: ignore[import-untyped]

        smsutil_s, _ = _time(lambda t: len(smsutil.split(t).parts), texts, runs)
        rates["smsutil"] = size / smsutil_s
    except ImportError:
        ctx.say("segments: smsutil is not installed (pip install '.[bench]'); left out")
    mismatches = []
    for k, (text, mine, (count, encoding)) in enumerate(
        zip(texts, ours, peers["twilio"]["counts"], strict=True)
    ):
        if mine[0] != count or mine[1] != encoding:
            mismatches.append(
                {"index": k, "text": text[:80], "ours": list(mine[:2]), "twilio": [count, encoding]}
            )
    fastest_peer = max((v, k) for k, v in rates.items() if k != "hiretext")
    out: dict[str, Any] = {
        "messages": size,
        "msgs_per_s": {k: round(v) for k, v in rates.items()},
        "fastest_peer": fastest_peer[1],
        "ratio_to_fastest_peer": round(rates["hiretext"] / fastest_peer[0], 2),
        "mismatches_with_twilio": len(mismatches),
        "mismatch_examples": mismatches[:10],
        "goal": {"ratio_to_fastest_peer": GOAL_RATIO, "mismatches_with_twilio": 0},
    }
    out["meets_goal"] = out["ratio_to_fastest_peer"] >= GOAL_RATIO and not mismatches
    rates_text = ", ".join(f"{k} {v / 1000:,.1f} k/s" for k, v in rates.items())
    out["lines"] = [
        rates_text,
        f"ours / fastest peer ({fastest_peer[1]}) = {out['ratio_to_fastest_peer']:.1f} "
        f"(goal ≥ {GOAL_RATIO:.0f}); counts equal to Twilio's on "
        f"{size - len(mismatches)} of {size} messages" + verdict(out["meets_goal"]),
    ]
    for line in out["lines"]:
        ctx.say(f"segments: {line}")
    return out
