"""3. The inbox at scale: list and conversation pages over a bulk-loaded organisation.

1 M messages in 100 k conversations on the numbers of 50 users (a smaller scale in smoke
mode). Measured at as many connections as cores (latency, not queueing):
the chat list and the API list, first page and at depth 5,000 (a keyset cursor), and a
conversation page; p95 against the goal, depth against the first page, and EXPLAIN of the
list query showing an index range scan on `(last_message_at, id) < (?, ?)`, never OFFSET.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from bench import fixtures, generate
from bench.core import Context, Unavailable, fail
from bench.load import Request, Run, ratio
from bench.server import serving
from bench.summary import verdict

GOAL_P95_MS = 30.0
GOAL_DEPTH_RATIO = 1.5
DEPTH = 5000


def session_cookie(user_id: int) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from hiretext.accounts.models import User

    user = User.objects.get(pk=user_id)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def cursor_at(user_id: int, depth: int) -> str:
    """The keyset cursor of the list page that starts `depth` rows down the user's inbox."""
    from hiretext.accounts.models import User
    from hiretext.lib.pagination import encode_cursor
    from hiretext.messaging.models import Conversation
    from hiretext.numbers.queries import number_for_user

    number = number_for_user(User.objects.get(pk=user_id))
    row = (
        Conversation.objects.filter(number=number, last_message_at__isnull=False)
        .order_by("-last_message_at", "-id")
        .values_list("last_message_at", "id")[depth - 1]
    )
    last_at, conversation_id = row
    assert last_at is not None  # the filter's own condition
    return encode_cursor([last_at.isoformat(), conversation_id])


def explain(user_id: int, cursor: str) -> dict[str, Any]:
    """The plan of the list query at depth, as the inbox runs it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hiretext.accounts.models import User
    from hiretext.inbox import queries

    user = User.objects.get(pk=user_id)
    with CaptureQueriesContext(connection) as captured:
        queries.inbox(user, cursor=cursor)
    sql = next(
        q["sql"]
        for q in captured.captured_queries
        if "ORDER BY" in q["sql"] and "messaging_conversation" in q["sql"]
    )
    prefix = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as db:
        db.execute(prefix + sql)
        plan = "\n".join(str(row[-1]) for row in db.fetchall())
    if connection.vendor == "postgresql":
        indexed = "conversation_inbox" in plan and "Index" in plan
        sorted_ = re.search(r"(^|->\s+)(Incremental )?Sort\b", plan, re.M) is not None
    else:
        indexed = "conversation_inbox" in plan
        sorted_ = "TEMP B-TREE FOR ORDER BY" in plan
    row_value = re.search(r"\)\s*<\s*\(", sql) is not None
    return {
        "plan": plan,
        "index_range": indexed and not sorted_,
        "row_value_predicate": row_value,
        "offset": " OFFSET " in sql.upper(),
    }


def run(ctx: Context, workers: int) -> dict[str, Any]:
    from django.apps import apps
    from django.db import connection

    if not apps.is_installed("hiretext.inbox"):
        raise Unavailable("the inbox app has not landed")
    scale = (
        {"users": 6, "conversations": 600, "messages": 6_000}
        if ctx.smoke
        else {"users": 50, "conversations": 100_000, "messages": 1_000_000}
    )
    depth = 50 if ctx.smoke else DEPTH
    ctx.say(
        f"inbox: loading {scale['messages']:,} messages, "
        f"{scale['conversations']:,} conversations, {scale['users']} users"
    )
    box = generate.load(**scale)
    ctx.say(f"inbox: loaded in {box.seconds:.0f} s")
    users = box.org.users
    cookies = [session_cookie(u) for u in users]
    tokens = [fixtures.api_token(u) for u in users]
    deep = [cursor_at(u, depth) for u in users[:: max(1, len(users) // 10)]]
    from hiretext.messaging.models import Conversation

    per_user_conversation = []
    for u in users:
        seat = users.index(u) // 3
        number_id = box.org.numbers[seat][0]
        per_user_conversation.append(
            Conversation.objects.filter(number_id=number_id)
            .order_by("-last_message_at")
            .values_list("id", flat=True)[3]
        )
    plan = explain(users[0], deep[0])
    connection.close()

    def page(path: str, k: int) -> Request:
        return Request("GET", path, (("Cookie", cookies[k % len(users)]),))

    def api(path: str, k: int) -> Request:
        return Request("GET", path, (("Authorization", f"Bearer {tokens[k % len(users)]}"),))

    n = len(users)
    step = max(1, len(users) // 10)
    cases: dict[str, Callable[[], list[Request]]] = {
        "chat_list_first": lambda: [page("/inbox/chats/list/", k) for k in range(n)],
        "chat_list_depth": lambda: [
            page(f"/inbox/chats/list/?cursor={deep[k]}", k * step) for k in range(len(deep))
        ],
        "api_list_first": lambda: [api("/api/v1/conversations", k) for k in range(n)],
        "api_list_depth": lambda: [
            api(f"/api/v1/conversations?cursor={deep[k]}", k * step) for k in range(len(deep))
        ],
        "conversation_page": lambda: [
            page(f"/inbox/chats/{per_user_conversation[k]}/", k) for k in range(n)
        ],
        "api_conversation_messages": lambda: [
            api(f"/api/v1/conversations/{per_user_conversation[k]}/messages", k) for k in range(n)
        ],
        "bare": lambda: [Request("GET", "/bench/bare")],
    }
    # Latency, not queueing: no more requests in flight than cores (a web worker per core).
    connections = max(1, min(workers, os.cpu_count() or 1))
    out: dict[str, Any] = {
        "scale": scale,
        "depth": depth,
        "load_seconds": round(box.seconds, 1),
        "connections": connections,
        "explain": plan,
    }
    with serving(ctx.env, workers) as port:
        for name, make in cases.items():
            requests = make()

            def check(i: int, reqs: list[Request], result: Run, name: str = name) -> None:
                if result.non_2xx or result.socket_errors:
                    fail(f"inbox {name}: {result.non_2xx} non-2xx, {result.socket_errors} errors")

            def replay(i: int, count: int, r: list[Request] = requests) -> list[Request]:
                return r

            series = ctx.measure(
                port,
                f"inbox-{name}",
                replay,
                seconds=2,
                connections=connections,
                after_run=check,
            )
            out[name] = series.summary()
    pages = [k for k in cases if k != "bare"]
    worst = max(out[k]["p95_ms"] for k in pages)
    out["worst_p95_ms"] = worst
    out["depth_ratio"] = {
        "chat_list": ratio(out["chat_list_depth"]["p50_ms"], out["chat_list_first"]["p50_ms"]),
        "api_list": ratio(out["api_list_depth"]["p50_ms"], out["api_list_first"]["p50_ms"]),
    }
    ok_plan = plan["index_range"] and plan["row_value_predicate"] and not plan["offset"]
    if not ok_plan or plan["offset"]:
        ctx.say("inbox: the list query's plan is not an index range:\n" + plan["plan"])
    out["meets_goal"] = (
        worst < GOAL_P95_MS and max(out["depth_ratio"].values()) <= GOAL_DEPTH_RATIO and ok_plan
    )
    out["lines"] = [
        f"{scale['messages']:,} messages / {scale['conversations']:,} conversations / "
        f"{scale['users']} users, loaded in {box.seconds:.0f} s; "
        f"at {connections} connections:",
        *(
            f"  {k}: p50 {out[k]['p50_ms']:.1f} ms, p95 {out[k]['p95_ms']:.1f} ms, "
            f"{out[k]['rps']:.0f} req/s"
            for k in [*pages, "bare"]
        ),
        f"worst p95 {worst:.1f} ms (goal < {GOAL_P95_MS:.0f}); "
        f"depth {depth:,} / first page (p50): chat list "
        f"{out['depth_ratio']['chat_list']:.2f}, API {out['depth_ratio']['api_list']:.2f} "
        f"(goal ≤ {GOAL_DEPTH_RATIO}); EXPLAIN: "
        + ("index range on conversation_inbox" if plan["index_range"] else "NOT an index range")
        + (", row-value predicate" if plan["row_value_predicate"] else ", no row-value predicate")
        + (", OFFSET!" if plan["offset"] else ", no OFFSET")
        + verdict(out["meets_goal"]),
    ]
    for line in out["lines"]:
        ctx.say(f"inbox: {line}")
    return out
