"""Signed simulator webhooks, precomputed (the load generator only replays bytes)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import random
from concurrent.futures import ThreadPoolExecutor

from bench.env import SIMULATOR_SECRET
from bench.load import Request

INBOUND_PATH = "/webhooks/simulator/inbound"
REPLIES = [
    "Yes, I'm interested! When can we talk?",
    "Thanks for reaching out, Tuesday at 10 works for me.",
    "Could you send me the job description?",
    "Sorry, I've accepted another offer.",
    "Ok 👍 see you then",
    "Merci, je suis disponible demain après-midi.",
    "Can we move the interview to Friday? Something came up at work and I can't make it.",
    "What is the salary range for this position?",
]


def sign(raw: bytes) -> str:
    return hmac.new(SIMULATOR_SECRET.encode(), raw, hashlib.sha256).hexdigest()


def inbound(message_id: str, sender: str, to: str, body: str) -> Request:
    raw = json.dumps(
        {"message_id": message_id, "from": sender, "to": to, "body": body},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return Request(
        "POST",
        INBOUND_PATH,
        (("Content-Type", "application/json"), ("X-Simulator-Signature", sign(raw.encode()))),
        raw,
    )


def inbound_stream(
    prefix: str, count: int, routes: list[tuple[str, str]], *, redeliver: float, seed: int
) -> tuple[list[Request], list[str]]:
    """`count` webhooks from (phone, our number) `routes`; a `redeliver` share repeats one.

    Returns the requests and, per request, its message id (repeats share an id).
    """
    rng = random.Random(seed)
    requests: list[Request] = []
    ids: list[str] = []
    for j in range(count):
        if j and rng.random() < redeliver:
            k = rng.randrange(j)
            requests.append(requests[k])
            ids.append(ids[k])
            continue
        sender, to = routes[rng.randrange(len(routes))]
        message_id = f"{prefix}-{j}"
        requests.append(inbound(message_id, sender, to, f"{rng.choice(REPLIES)} #{j}"))
        ids.append(message_id)
    return requests, ids


def post(port: int, request: Request) -> int:
    """Send one request from this process (the redelivery of in-flight webhooks)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(request.method, request.path, request.body.encode(), dict(request.headers))
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def post_all(port: int, requests: list[Request], clients: int = 8) -> list[int]:
    """`post` each request, `clients` at a time (redeliveries: their order does not matter)."""
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda request: post(port, request), requests))
