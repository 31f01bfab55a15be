"""Parallel upserts of one external id: one record, no 500 (SQLite and PostgreSQL)."""

import json
import threading

import pytest
from django.db import connections
from django.test import Client

from hiretext.accounts.models import ApiToken
from hiretext.ats.models import Candidate, ConsentEvent, Contact
from tests.threads import run_threads


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("kind", "model"), [("candidates", Candidate), ("contacts", Contact)])
def test_ten_parallel_upserts_make_exactly_one_record(kind, model, recruiter, other_admin):
    _, raw = ApiToken.issue(recruiter)
    # The other organisation's record with the same external id must not be touched.
    theirs = model.objects.create(
        organization=other_admin.organization, first_name="Theirs", external_id="race-1"
    )
    barrier = threading.Barrier(10)
    results: list[tuple[int, dict]] = []
    errors: list[BaseException] = []

    def upsert(i: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            resp = client.put(
                f"/api/v1/{kind}/external/race-1",
                json.dumps({"first_name": f"Racer{i}", "sms_consent": True}),
                content_type="application/json",
                headers={"Authorization": f"Bearer {raw}"},
            )
            results.append((resp.status_code, resp.json()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    run_threads(upsert, 10, indexed=True)
    assert not errors, errors
    statuses = sorted(status for status, _ in results)
    assert len(statuses) == 10
    assert statuses.count(201) == 1, results
    assert statuses.count(200) == 9, results
    mine = model.objects.filter(organization=recruiter.organization, external_id="race-1")
    assert mine.count() == 1
    assert {body["id"] for _, body in results} == {mine.get().pk}
    assert mine.get().first_name.startswith("Racer")
    # Consent was granted once; the nine updates found it already granted.
    ref = "candidate" if model is Candidate else "contact"
    assert ConsentEvent.objects.filter(**{ref: mine.get()}).count() == 1
    theirs.refresh_from_db()
    assert (theirs.first_name, theirs.sms_consent) == ("Theirs", False)
