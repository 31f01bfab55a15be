"""Failed sign-ins slow a guesser down: after MAX_FAILURES attempts without the right
password for one e-mail from one address within WINDOW_SECONDS, that pair is refused until
the window ends. The right password clears the count.

Both doors count: the sign-in page and `POST /api/v1/auth/token`. Keyed by e-mail *and*
client address, so a stranger cannot lock a colleague out from elsewhere. Counts live in
Django's cache: Redis when REDIS_URL is set (shared by every process and machine), else
each process's memory (a guesser then gets this many tries per web process).
"""

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest

from hiretext.lib.errors import DomainError

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60


class TooManyAttempts(DomainError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            "too_many_attempts",
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
        )
        self.retry_after = retry_after


def client_address(request: HttpRequest | None) -> str:
    return str(request.META.get("REMOTE_ADDR", "")) if request is not None else ""


def _key(email: str, address: str) -> str:
    raw = f"{(email or '').strip().lower()}\0{address}".encode()
    return "signin-attempts:" + hashlib.sha256(raw).hexdigest()


def attempt(email: str, address: str) -> None:
    """Count a sign-in attempt before the password is checked (an atomic increment, so
    parallel guesses count too); raise TooManyAttempts past MAX_FAILURES in the window.
    A correct password clears the count (`succeeded`)."""
    key = _key(email, address)
    cache.add(key + ":since", time.time(), WINDOW_SECONDS)
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls: a new window
        cache.add(key, 1, WINDOW_SECONDS)
        count = 1
    if count > MAX_FAILURES:
        since = cache.get(key + ":since") or time.time()
        raise TooManyAttempts(max(1, int(since + WINDOW_SECONDS - time.time())))


def succeeded(email: str, address: str) -> None:
    key = _key(email, address)
    cache.delete_many([key, key + ":since"])
