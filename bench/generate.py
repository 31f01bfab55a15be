"""Bulk-load an inbox at scale: N messages in M conversations over the numbers of U users.

COPY on PostgreSQL, one executemany transaction on SQLite: a million messages load in
well under a minute here. Columns come from the models, so the loader follows the schema.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bench import fixtures

WORDS = ["thanks", "interview", "tomorrow", "role", "salary", "confirm", "call", "offer"]


@dataclass
class Inbox:
    org: fixtures.Org
    conversations: int
    messages: int
    seconds: float


def _columns(model: Any, given: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """Every concrete column but the primary key: given values, else the model's default."""
    from django.utils import timezone

    names, defaults = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(field.column)
        if field.attname in given:
            defaults.append(given[field.attname])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults.append(timezone.now())
        elif field.has_default():
            defaults.append(field.get_default())
        elif field.null:
            defaults.append(None)
        elif field.empty_strings_allowed and field.get_default() == "":
            defaults.append("")
        else:
            raise ValueError(f"{model.__name__}.{field.name} needs a value")
    return names, defaults


def bulk_insert(model: Any, fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (values for `fields`, attnames) fast; other columns take defaults."""
    from django.db import connection, transaction

    names, defaults = _columns(model, dict.fromkeys(fields))
    attnames = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    slots = [attnames.index(f) for f in fields]
    table = model._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(n) for n in names)

    def full(row: Sequence[Any]) -> list[Any]:
        values = list(defaults)
        for slot, value in zip(slots, row, strict=True):
            values[slot] = value
        return values

    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's own cursor, for COPY
            with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(full(row))
                    count += 1
        else:
            marks = ", ".join(["%s"] * len(names))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608 - constants
            batch: list[list[Any]] = []
            for row in rows:
                batch.append(
                    [
                        connection.ops.adapt_datetimefield_value(v)
                        if isinstance(v, datetime)
                        else v
                        for v in full(row)
                    ]
                )
                if len(batch) == 5000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
    return count


def load(*, users: int, conversations: int, messages: int, seed: int = 1) -> Inbox:
    import time

    from django.db import connection
    from django.utils import timezone

    from hiretext.messaging.models import Conversation, Message

    t0 = time.monotonic()
    seats = -(-users // 3)
    org = fixtures.seed_org(seats=seats, people=conversations, conversations=False, label="inbox")
    org.users = org.users[:users]
    rng = random.Random(seed)
    now = timezone.now()
    # Each conversation: its last message some time in the last 90 days; messages before it.
    last = [now - timedelta(seconds=rng.randrange(90 * 86400)) for _ in range(conversations)]
    per = [messages // conversations] * conversations
    for k in range(messages - sum(per)):
        per[k] += 1
    bulk_insert(
        Conversation,
        [
            "organization_id",
            "number_id",
            "candidate_id",
            "phone",
            "last_message_at",
            "unread",
            "created_at",
        ],
        (
            (
                org.org_id,
                org.numbers[k % seats][0],
                org.candidates[k],
                org.phones[k],
                last[k],
                k % 7 == 0,
                last[k],
            )
            for k in range(conversations)
        ),
    )
    ids = list(
        Conversation.objects.filter(organization_id=org.org_id)
        .order_by("candidate_id")
        .values_list("id", flat=True)
    )
    org.conversations = ids

    def rows() -> Iterable[tuple[Any, ...]]:
        for k, conversation in enumerate(ids):
            for j in range(per[k]):
                at = last[k] - timedelta(minutes=(per[k] - 1 - j) * 37)
                inbound = j % 2 == 1
                body = " ".join(rng.choice(WORDS) for _ in range(8))
                yield (
                    org.org_id,
                    conversation,
                    "in" if inbound else "out",
                    body,
                    "received" if inbound else "delivered",
                    "simulator",
                    f"G{org.org_id}-{k}-{j}",
                    at,
                    at,
                )

    loaded = bulk_insert(
        Message,
        [
            "organization_id",
            "conversation_id",
            "direction",
            "body",
            "status",
            "carrier",
            "external_id",
            "created_at",
            "updated_at",
        ],
        rows(),
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As a live table would be: visibility map and hint bits set, so the first reads
            # do not rewrite every freshly loaded page (and autovacuum is not racing us).
            cursor.execute("VACUUM (ANALYZE) messaging_message, messaging_conversation")
        cursor.execute("ANALYZE")
    connection.close()
    return Inbox(org, conversations, loaded, time.monotonic() - t0)
