"""4. Segment counting: ours against the peers, on the same mixed corpus.

Peers: Twilio's `sms-segments-calculator` (the reference: our count must equal its count
on every message), `split-sms` (npm) and `smsutil` (PyPI, `pip install '.[bench]'`).
Throughput is messages per second, single core; the ratio is ours to the fastest peer.
Each side counts in a fresh process of its own: the npm peers in node (`node/peers.js`),
ours and smsutil in Python (`segments_python.py`).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.core import Context, Unavailable
from bench.corpus import corpus
from bench.env import ROOT
from bench.summary import verdict

NODE_DIR = Path(__file__).with_name("node")
GOAL_RATIO = 10.0


def _node(path: Path, *args: int) -> subprocess.Popen[str]:
    command = ["node", str(NODE_DIR / "peers.js"), str(path), *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603


def _node_peers(path: Path, size: int, runs: int) -> dict[str, Any]:
    """Twilio's counts of every text, and its rate; split-sms's seconds per run.

    Twilio's calculator (about 2 ms a text: most of this benchmark's time) counts the two
    halves of the corpus in two node processes at once, one a core; its rate is the mean
    of theirs (each its half over its own time). split-sms then runs alone, as ours does.
    """
    half = size // 2
    halves = [_node(path, 1, 0, 0, half), _node(path, 1, 0, half, size)]
    outputs = []
    for proc in halves:
        out, _ = proc.communicate(timeout=600)
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, proc.args)
        outputs.append(json.loads(out))
    split = _node(path, 0, runs)
    out, _ = split.communicate(timeout=600)
    if split.returncode:
        raise subprocess.CalledProcessError(split.returncode, split.args)
    alone = json.loads(out)
    rates = [o["twilio_messages"] / o["twilio"]["seconds"][0] for o in outputs]
    return {
        "twilio": {
            "counts": [c for o in outputs for c in o["twilio"]["counts"]],
            "seconds": [o["twilio"]["seconds"][0] for o in outputs],
            "rate": statistics.mean(rates),
        },
        "split_sms": alone["split_sms"],
    }


def run(ctx: Context) -> dict[str, Any]:
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
    at_least = 0.0 if ctx.smoke else 3.0  # seconds of our passes in all (bench.segments_python)
    ctx.say(
        f"segments: {size} messages; Twilio's calculator once (two halves side by side, "
        f"a core each), the others {runs}× alone"
    )
    peers = _node_peers(path, size, runs)
    # Ours (and smsutil) in a fresh Python process, as the npm peers run in a fresh node.
    python = subprocess.run(
        [sys.executable, "-m", "bench.segments_python", str(path), str(runs), str(at_least)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        cwd=ROOT,
    )
    measured = json.loads(python.stdout)
    ours = measured["hiretext"]["counts"]
    rates: dict[str, float] = {
        "hiretext": size / statistics.median(measured["hiretext"]["seconds"]),
        "sms-segments-calculator (Twilio)": peers["twilio"]["rate"],
        "split-sms": size / statistics.median(peers["split_sms"]["seconds"]),
    }
    if "smsutil" in measured:
        rates["smsutil"] = size / statistics.median(measured["smsutil"]["seconds"])
    else:
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
