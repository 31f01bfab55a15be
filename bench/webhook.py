"""1. Inbound webhook: signed simulator webhooks at 32 connections, checked after each run.

Each webhook carries a new message id (5 % are redeliveries of an earlier one) from a
candidate's phone to the number their conversation is on. After every run: the last
in-flight webhooks are delivered again (idempotent), then the database must hold exactly
one message per unique id, each conversation that received one is unread, each message
has its timeline entry, and no response was other than 2xx.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench import fixtures, signing
from bench.core import Context, Target, fail, paired_ratio, settle
from bench.load import Request, Run
from bench.server import serving
from bench.summary import verdict

GOAL_RATIO = 0.35
GOAL_P99_MS = 50.0


def seed(ctx: Context, label: str) -> fixtures.Org:
    return fixtures.seed_org(
        seats=1 if ctx.smoke else 5, people=50 if ctx.smoke else 2000, label=label
    )


def check(
    ctx: Context, port: int, prefix: str, requests: list[Request], ids: list[str], run: Run
) -> dict[str, int]:
    from django.db import connection

    from hiretext.ats.models import ActivityEntry
    from hiretext.messaging.models import Conversation, Message

    sent = min(run.issued, len(requests))
    if run.issued > len(requests):
        ctx.say(f"  note: the run cycled its {len(requests)} requests (the rest were redeliveries)")
    # Requests still in flight when wrk stopped may or may not have been served, and wrk
    # may draw a request it never sends at start: deliver those again, as a carrier
    # retries, so the expected set is exact.
    again = [*requests[:2], *requests[max(2, sent - 64) : sent]]
    for status in signing.post_all(port, again):
        if not 200 <= status < 300:
            fail(f"{prefix}: redelivery answered {status}")
    expected = set(ids[:sent])
    mine = Message.objects.filter(carrier="simulator", external_id__startswith=prefix + "-")

    def stored_now() -> list[tuple[int, str, int]]:
        return list(mine.values_list("id", "external_id", "conversation_id"))

    # A request the server took early may still be running (a worker's first request
    # loads its code): wait for the server, not only for wrk, before comparing.
    stored = settle(stored_now, lambda rows: {external for _, external, _ in rows} == expected)
    stored_ids = [external for _, external, _ in stored]
    if len(stored_ids) != len(set(stored_ids)):
        fail(f"{prefix}: a message id was stored twice")
    if set(stored_ids) != expected:
        missing = sorted(ids.index(m) for m in expected - set(stored_ids))
        fail(
            f"{prefix}: {len(stored_ids)} messages stored for {len(expected)} unique ids "
            f"(requests never stored: {missing[:10]}; wrk issued {run.issued}, "
            f"{run.responses} responses, {run.non_2xx} non-2xx, "
            f"{run.socket_errors + run.timeouts} socket errors or timeouts)"
        )
    if run.non_2xx or run.socket_errors or run.timeouts:
        errors = run.socket_errors + run.timeouts
        fail(f"{prefix}: {run.non_2xx} non-2xx, {errors} socket errors or timeouts")
    conversations = {conversation for _, _, conversation in stored}
    read = Conversation.objects.filter(pk__in=conversations, unread=False).count()
    if read:
        fail(f"{prefix}: {read} conversations that received a message are not unread")
    entries = ActivityEntry.objects.filter(
        ref_id__in=[pk for pk, _, _ in stored], kind="sms_in"
    ).count()
    if entries != len(stored):
        fail(f"{prefix}: {entries} timeline entries for {len(stored)} messages")
    events = inbox_events([pk for pk, _, _ in stored])
    if events is not None and events != len(stored):
        fail(f"{prefix}: {events} inbox events for {len(stored)} messages")
    connection.close()
    return {"unique_ids": len(expected), "messages": len(stored), "requests_sent": sent}


def inbox_events(message_ids: list[int]) -> int | None:
    """How many inbox 'message' events these messages have (None before the inbox app)."""
    from django.apps import apps

    if not apps.is_installed("hiretext.inbox"):
        return None
    event = apps.get_model("inbox", "Event")
    return int(event.objects.filter(message_id__in=message_ids, kind="message").count())


class Stream:
    """The webhooks one server is measured with: each run's requests, the checks after it."""

    def __init__(self, ctx: Context, org: fixtures.Org, label: str, port: int) -> None:
        self.ctx, self.org, self.label, self.port = ctx, org, label, port
        self.routes = [
            (org.phones[k], org.numbers[k % len(org.numbers)][1]) for k in range(len(org.phones))
        ]
        self.pending: dict[int, tuple[str, list[str]]] = {}  # run → (id prefix, ids)
        self.checked: list[dict[str, int]] = []

    def make(self, i: int, count: int) -> list[Request]:
        prefix = f"B{self.org.org_id}-{self.label}-{i + 10}"
        requests, ids = signing.inbound_stream(
            prefix, count, self.routes, redeliver=0.05, seed=i + 100
        )
        self.pending[i] = (prefix, ids)
        return requests

    def after(self, i: int, requests: list[Request], result: Run) -> None:
        prefix, ids = self.pending.pop(i)
        self.checked.append(check(self.ctx, self.port, prefix, requests, ids, result))

    def target(self) -> Target:
        return Target(self.port, self.label, self.make, self.after)


def run(
    ctx: Context, workers: int, *, label: str = "webhook", seconds: float = 6
) -> dict[str, Any]:
    from django.db import connection

    org = seed(ctx, label)
    connection.close()
    with serving(ctx.env, workers) as port:
        stream = Stream(ctx, org, label, port)
        series, bare = ctx.measure_with_bare(
            port, label, stream.make, seconds=seconds, after_run=stream.after
        )
    checked = stream.checked
    out: dict[str, Any] = {
        "workers": workers,
        **series.summary(),
        "invariants": "held",
        "checked_runs": len(checked),
    }
    ceiling = statistics.median(bare) if bare else 0.0
    out["ceiling_rps"] = round(ceiling, 1)
    out["bare_runs"] = [round(rps, 1) for rps in bare]
    out["ratio_to_bare"] = paired_ratio(series, bare)
    calibrated, calibration_lines = ctx.against_calibration(out["rps"], "webhooks", GOAL_RATIO)
    out |= calibrated
    out["goal"] = {"ratio_to_bare": GOAL_RATIO, "p99_ms": GOAL_P99_MS}
    out["meets_goal"] = out["ratio_to_bare"] >= GOAL_RATIO and out["p99_ms"] <= GOAL_P99_MS
    out["lines"] = [
        f"{out['rps']:.0f} req/s at 32 connections, p50 {out['p50_ms']:.1f} ms, "
        f"p99 {out['p99_ms']:.1f} ms; {out['ratio_to_bare']:.3f} of the bare view "
        f"({ceiling:.0f} req/s, measured after each run on the same server) "
        f"(goal ≥ {GOAL_RATIO}, p99 ≤ {GOAL_P99_MS:.0f} ms)" + verdict(out["meets_goal"]),
        *calibration_lines,
        f"invariants held after {len(checked)} runs: messages = unique ids, unread, timeline, "
        "0 non-2xx",
    ]
    for line in out["lines"]:
        ctx.say(f"{label}: {line}")
    return out
