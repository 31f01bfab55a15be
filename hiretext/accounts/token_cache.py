"""Bearer tokens' rows (token, user, organisation), kept a few seconds per process so an
API client's requests do not each read them again.

Every API call resolved its token in a statement and a round trip of its own; a client
sends many calls with one token, so the row is read once per `HIRETEXT_TOKEN_CACHE_SECONDS`
instead (BENCHMARKS-HISTORY.md: about a tenth of a send's cost under load). The row's values are
kept, not the objects built from them: each request builds its own user, so nothing one
request sets on it reaches another.

A change to a user, a token or an organisation clears the cache of the process that made
it at once; other processes see it within the setting's seconds (as permissions,
`permission_cache`). 0 turns the cache off.
"""

import threading
import time
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from hiretext.accounts.models import ApiToken, Organization, User

# Distinct tokens kept per process: then forgotten all at once (one client's token is
# enough to matter; a flood of made-up tokens never reaches here, they find no row).
KEPT = 10_000

_rows: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def cached(key_hash: str) -> Any:
    """What was kept for `key_hash` (immutable), if it is still fresh; else None."""
    hit = _rows.get(key_hash)
    if hit is None or hit[0] <= time.monotonic():
        return None
    return hit[1]


def keep(key_hash: str, resolved: Any) -> None:
    seconds = settings.HIRETEXT_TOKEN_CACHE_SECONDS
    if seconds <= 0:
        return
    with _lock:
        if len(_rows) >= KEPT:
            _rows.clear()
        _rows[key_hash] = (time.monotonic() + seconds, resolved)


def forget_tokens(*_: Any, **__: Any) -> None:
    with _lock:
        _rows.clear()


for _model in (User, ApiToken, Organization):
    post_save.connect(forget_tokens, sender=_model, dispatch_uid=f"token-cache-s-{_model.__name__}")
    post_delete.connect(
        forget_tokens, sender=_model, dispatch_uid=f"token-cache-d-{_model.__name__}"
    )
