"""4. Segment counting: ours against the peers, on the same mixed corpus.

Peers: Twilio's `sms-segments-calculator` (the reference: our count must equal its count
on every message), `split-sms` (npm) and `smsutil` (PyPI, `pip install '.[bench]'`).
Throughput is messages per second, single core; the ratio is ours to the fastest peer.
Each side counts in a process of its own: the npm peers in node (`node/peers.js`), ours
and smsutil in Python (`segments_python.py`). The counters are timed in turns, in a
rotating order, and the ratio is the median of each turn's: a slow spell of the machine
(they last seconds here) falls on every counter of a turn, not on one side only.
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
TURNS = 7
TWILIO = "sms-segments-calculator (Twilio)"


def _node(path: Path, *args: str) -> subprocess.Popen[str]:
    command = ["node", str(NODE_DIR / "peers.js"), str(path), *args]
    return subprocess.Popen(  # noqa: S603
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def _twilio(path: Path, size: int) -> dict[str, Any]:
    """Twilio's counts of every text, and its rate.

    Its calculator (about 2 ms a text: most of this benchmark's time) counts the two halves
    of the corpus in two node processes at once, one a core; its rate is the mean of
    theirs (each its half over its own time). Far below the other peers, it is not timed in
    turns.
    """
    half = size // 2
    halves = [_node(path, "0", str(half)), _node(path, str(half), str(size))]
    outputs = []
    for proc in halves:
        out, _ = proc.communicate(timeout=600)
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, proc.args)
        outputs.append(json.loads(out))
    return {
        "counts": [c for o in outputs for c in o["twilio"]["counts"]],
        "rate": statistics.mean(o["messages"] / o["twilio"]["seconds"] for o in outputs),
    }


class Counters:
    """The counter processes (ours and smsutil in Python, split-sms in node), each asked for
    one turn at a time: a JSON command line in, a JSON line out."""

    def __init__(self, path: Path, at_least: float) -> None:
        self.python = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bench.segments_python", str(path), str(at_least)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.node = _node(path, "--serve")
        self.where: dict[str, subprocess.Popen[str]] = {"split-sms": self.node}
        try:
            for name in self._ask(self.python, "")["counters"]:
                self.where[name] = self.python
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _ask(proc: subprocess.Popen[str], command: str) -> dict[str, Any]:
        stdin, stdout = proc.stdin, proc.stdout
        assert stdin is not None and stdout is not None
        if command:
            stdin.write(command + "\n")
            stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the counter process {proc.args!r} ended")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def counts(self) -> list[list[Any]]:
        return list(self._ask(self.python, "counts")["counts"])

    def rate(self, name: str, size: int) -> float:
        """Messages a second in one turn of the counter `name`."""
        answer = self._ask(self.where[name], name)
        return float(size * answer["passes"] / answer["seconds"])

    def close(self) -> None:
        for proc in (self.python, self.node):
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def in_turns(counters: Counters, names: list[str], size: int, turns: int) -> list[dict[str, float]]:
    """Each turn times every counter once, the order rotated by one from the turn before.

    A peer at under half the pace of the fastest one in the first turn leaves the turns
    after it: it cannot be the fastest, and its passes (smsutil's take seconds) would
    cost most of the turns' time. The others go on in turns.
    """
    measured = []
    for k in range(turns):
        order = names[k % len(names) :] + names[: k % len(names)]
        turn = {name: counters.rate(name, size) for name in order}
        measured.append(turn)
        if k == 0:
            fastest = max(rate for name, rate in turn.items() if name != "hiretext")
            names = [n for n in names if n == "hiretext" or turn[n] >= fastest / 2]
    return measured


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
    # Seven turns (one in a smoke run): about as long as the three passes of each counter
    # one after the other took before, the slow peer timed in the first turn only
    # (`in_turns`). A node pass needs no warm-up: the JIT is warm within the first
    # milliseconds of a pass that lasts seconds.
    turns = 1 if ctx.smoke else TURNS
    at_least = 0.0 if ctx.smoke else 2.0  # seconds of a turn of ours (a peer's pass is longer)
    ctx.say(
        f"segments: {size} messages; Twilio's calculator once (two halves side by side, "
        f"a core each), the others in {turns} turns"
    )
    twilio = _twilio(path, size)
    counters = Counters(path, at_least)
    try:
        ours = counters.counts()
        names = sorted(counters.where, key=lambda name: name != "hiretext")
        measured = in_turns(counters, names, size, turns)
    finally:
        counters.close()
    if "smsutil" not in counters.where:
        ctx.say("segments: smsutil is not installed (pip install '.[bench]'); left out")
    rates = {
        name: statistics.median(turn[name] for turn in measured if name in turn) for name in names
    }
    rates = {"hiretext": rates.pop("hiretext"), TWILIO: twilio["rate"], **rates}
    # Each turn's ratio to the peer that is fastest over all turns (it ran in every turn);
    # their median. (Twilio's calculator, hundreds of times slower, is not in the turns.)
    fastest_peer = max((rates[k], k) for k in measured[-1] if k != "hiretext")[1]
    turn_ratios = [turn["hiretext"] / turn[fastest_peer] for turn in measured]
    mismatches = []
    for k, (text, mine, (count, encoding)) in enumerate(
        zip(texts, ours, twilio["counts"], strict=True)
    ):
        if mine[0] != count or mine[1] != encoding:
            mismatches.append(
                {"index": k, "text": text[:80], "ours": list(mine[:2]), "twilio": [count, encoding]}
            )
    out: dict[str, Any] = {
        "messages": size,
        "msgs_per_s": {k: round(v) for k, v in rates.items()},
        "fastest_peer": fastest_peer,
        "ratio_to_fastest_peer": round(statistics.median(turn_ratios), 2),
        "turn_ratios": [round(r, 2) for r in turn_ratios],
        "mismatches_with_twilio": len(mismatches),
        "mismatch_examples": mismatches[:10],
        "goal": {"ratio_to_fastest_peer": GOAL_RATIO, "mismatches_with_twilio": 0},
    }
    out["meets_goal"] = out["ratio_to_fastest_peer"] >= GOAL_RATIO and not mismatches
    rates_text = ", ".join(f"{k} {v / 1000:,.1f} k/s" for k, v in rates.items())
    each_turn = ", ".join(f"{r:.1f}" for r in turn_ratios)
    out["lines"] = [
        rates_text,
        f"ours / fastest peer ({fastest_peer}) = {out['ratio_to_fastest_peer']:.1f}, the median "
        f"of {turns} turn{'s' if turns != 1 else ''} ({each_turn}) "
        f"(goal ≥ {GOAL_RATIO:.0f}); counts equal to Twilio's on "
        f"{size - len(mismatches)} of {size} messages" + verdict(out["meets_goal"]),
    ]
    for line in out["lines"]:
        ctx.say(f"segments: {line}")
    return out
