"""Failed sign-ins are throttled per e-mail and address, on the page and the token API."""

import os
import threading

import pytest
from django.db import connections
from django.test import Client

from hiretext.accounts import throttle
from tests.threads import run_threads

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token"
# A Redis database of each test process's own (cleared here): 15, 14, … for gw0, gw1, …
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:6379/{15 - _WORKER % 8}",
    }
}


@pytest.fixture(params=["memory", "redis"])
def counts_in(request, settings):
    """Each process's memory (no REDIS_URL) and Redis (shared by every process)."""
    if request.param == "redis":
        settings.CACHES = REDIS
        from django.core.cache import cache

        cache.clear()
    return request.param


def token(client, password, email="recruiter1@acme.test", address="127.0.0.1"):
    return client.post(
        TOKEN,
        {"email": email, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def test_the_api_refuses_after_too_many_wrong_passwords_then_lets_the_right_one_in_later(
    client, recruiter, monkeypatch, counts_in
):
    for _ in range(throttle.MAX_FAILURES):
        assert token(client, "wrong").status_code == 401
    refused = token(client, "pw-123456")  # even the right one, until the window ends
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "too_many_attempts" and body["status"] == 429
    assert "Try again in 15 minutes" in body["detail"]
    assert 0 < int(refused["Retry-After"]) <= throttle.WINDOW_SECONDS
    # Another address, or another e-mail, is not locked out by these failures.
    assert token(client, "pw-123456", address="10.0.0.9").status_code == 200
    assert token(client, "wrong", email="other@acme.test").status_code == 401
    # The window ends: the right password works and clears the count.
    real_time = throttle.time.time
    monkeypatch.setattr(throttle.time, "time", lambda: real_time() + throttle.WINDOW_SECONDS + 1)
    from django.core.cache import cache

    cache.clear()  # what the expiry does in the cache itself
    assert token(client, "pw-123456").status_code == 200


def test_a_right_password_clears_earlier_failures(client, recruiter):
    for _ in range(throttle.MAX_FAILURES - 1):
        token(client, "wrong")
    assert token(client, "pw-123456").status_code == 200
    for _ in range(throttle.MAX_FAILURES - 1):
        assert token(client, "wrong").status_code == 401
    assert token(client, "pw-123456").status_code == 200


def test_the_email_is_matched_as_the_sign_in_matches_it(client, recruiter):
    for k in range(throttle.MAX_FAILURES):
        token(client, "wrong", email=" Recruiter1@ACME.test " if k % 2 else "recruiter1@acme.test")
    assert token(client, "wrong").status_code == 429


def test_the_sign_in_page_says_so_and_shares_the_count(client, recruiter):
    for _ in range(throttle.MAX_FAILURES - 1):
        token(client, "wrong")
    page = client.post("/login/", {"username": "recruiter1@acme.test", "password": "wrong"})
    assert page.status_code == 200 and "_auth_user_id" not in client.session
    page = client.post("/login/", {"username": "recruiter1@acme.test", "password": "pw-123456"})
    assert page.status_code == 200 and "_auth_user_id" not in client.session
    assert "Too many failed sign-ins. Try again in 15 minutes." in page.content.decode()


def test_the_sign_in_page_signs_in_and_clears_the_count(client, recruiter):
    client.post("/login/", {"username": "recruiter1@acme.test", "password": "wrong"})
    page = client.post("/login/", {"username": "recruiter1@acme.test", "password": "pw-123456"})
    assert page.status_code == 302 and client.session["_auth_user_id"] == str(recruiter.pk)


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_are_counted_too(recruiter, counts_in):
    """Every attempt is counted before its password is checked, so a burst of parallel
    guesses gets no more tries than a sequence."""
    answers: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def guess() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                status = token(Client(), "wrong").status_code
                with lock:
                    answers.append(status)
        finally:
            connections.close_all()

    run_threads(guess, 8)
    assert answers.count(401) == throttle.MAX_FAILURES
    assert answers.count(429) == 24 - throttle.MAX_FAILURES
