"""The API reads a bearer token's row at most every few seconds, yet a change made in this
process (a user deactivated, a token deleted) applies to the very next request, and one
made elsewhere within `HIRETEXT_TOKEN_CACHE_SECONDS`."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hiretext.accounts import token_cache
from hiretext.accounts.models import ApiToken, hash_token
from hiretext.accounts.services import user_for_token
from hiretext.api.tests.statements import reads_of

pytestmark = pytest.mark.django_db


def token_reads(api):
    return reads_of(api, "accounts_apitoken")


def test_a_token_is_read_once_then_kept(api_as, recruiter):
    api = api_as(recruiter)
    assert token_reads(api) == 2  # its row, then `last_used_at` set for the first time
    assert token_reads(api) == 0
    assert token_reads(api) == 0


def test_a_change_elsewhere_applies_when_the_row_expires(recruiter, monkeypatch):
    _, raw = ApiToken.issue(recruiter)
    assert user_for_token(raw) == recruiter
    # Another process deletes the token: no signal reaches this one.
    ApiToken.objects.filter(key_hash=hash_token(raw)).update(key_hash="gone")
    assert user_for_token(raw) == recruiter  # still kept
    later = token_cache.time.monotonic() + 5.01
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: later)
    assert user_for_token(raw) is None


def test_no_cache_when_its_seconds_are_zero(recruiter, settings):
    settings.HIRETEXT_TOKEN_CACHE_SECONDS = 0
    _, raw = ApiToken.issue(recruiter)
    assert user_for_token(raw) == recruiter
    ApiToken.objects.update(key_hash="gone")
    assert user_for_token(raw) is None


def test_deactivating_the_user_applies_to_the_next_request(api_as, recruiter):
    api = api_as(recruiter)
    token_reads(api)
    assert token_reads(api) == 0  # kept
    recruiter.is_active = False
    recruiter.save(update_fields=["is_active"])
    response = api.get("/candidates")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_deleting_the_token_applies_to_the_next_request(api_as, recruiter):
    api = api_as(recruiter)
    token_reads(api)
    assert token_reads(api) == 0
    ApiToken.objects.get(user=recruiter).delete()
    assert api.get("/candidates").status_code == 401


def test_an_organisation_change_is_seen_at_once(recruiter):
    _, raw = ApiToken.issue(recruiter)
    assert user_for_token(raw).organization.time_zone == recruiter.organization.time_zone
    org = recruiter.organization
    org.time_zone = "Asia/Tokyo"
    org.save()
    assert user_for_token(raw).organization.time_zone == "Asia/Tokyo"


def test_each_request_builds_its_own_user(recruiter):
    """Nothing one request sets on its user reaches the next."""
    _, raw = ApiToken.issue(recruiter)
    first = user_for_token(raw)
    first.first_name = "Changed"
    first.organization.name = "Changed"
    second = user_for_token(raw)
    assert second is not first
    assert second.first_name == recruiter.first_name
    assert second.organization.name == recruiter.organization.name


def test_a_stale_last_use_is_written_once_and_kept_as_written(recruiter):
    token, raw = ApiToken.issue(recruiter)
    old = timezone.now() - timedelta(minutes=10)
    ApiToken.objects.update(last_used_at=old)
    assert user_for_token(raw) == recruiter
    token.refresh_from_db()
    assert token.last_used_at > old
    assert token_cache.cached(hash_token(raw)).last_used_at == token.last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert user_for_token(raw) == recruiter
    assert queries.captured_queries == []


def test_unknown_tokens_are_never_kept(recruiter):
    for n in range(5):
        assert user_for_token(f"ht_made_up_{n}") is None
    assert token_cache._rows == {}


def test_the_cache_is_bounded(recruiter, monkeypatch):
    monkeypatch.setattr(token_cache, "KEPT", 3)
    raws = [ApiToken.issue(recruiter)[1] for _ in range(5)]  # (each clears the cache)
    for raw in raws:
        assert user_for_token(raw) == recruiter
    assert len(token_cache._rows) == 2  # full at the fourth: forgotten, then two kept
    assert token_cache.cached(hash_token(raws[-1])) is not None


def test_what_is_kept_is_immutable(recruiter):
    """Each request builds its user from the kept values: a list or dict among them (a
    JSON field added to users, say) would be shared by every request of the token."""
    _, raw = ApiToken.issue(recruiter)
    user_for_token(raw)
    kept = token_cache.cached(hash_token(raw))
    for value in (*kept.user, *kept.organization):
        assert value is None or isinstance(value, (str, int, bool, datetime)), value
