"""The partial indexes of the hot writes are still the ones their reads use (SQLite plans)."""

import pytest
from django.db import connection

from hiretext.ats.models import ActivityEntry
from hiretext.messaging.models import Message

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="PostgreSQL's planner chooses by table size"
    ),
]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("lookup", "index"),
    [("candidate_id", "activity_candidate_timeline"), ("contact_id", "activity_contact_timeline")],
)
def test_a_timeline_reads_its_partial_index_in_order(lookup, index):
    timeline = ActivityEntry.objects.filter(**{lookup: 7}).order_by("-created_at", "-id")[:100]
    found = plan(timeline)
    assert f"USING INDEX {index}" in found and "TEMP B-TREE" not in found, found


def test_entries_and_messages_of_a_user_are_found_by_index():
    assert "USING INDEX activity_actor" in plan(ActivityEntry.objects.filter(actor_id=3))
    assert "USING INDEX message_sender" in plan(Message.objects.filter(sender_id=3))
