"""A user's permissions, kept a few seconds per process so the API does not read them on
every request (two statements each time through Django's ModelBackend).

A change of roles or permissions clears the cache of the process that made it at once;
other processes see it within `PERMISSION_CACHE_SECONDS`.
"""

import threading
import time
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save

from hiretext.accounts.models import User

PERMISSION_CACHE_SECONDS = 5.0

_cache: dict[int, tuple[float, frozenset[str]]] = {}
_lock = threading.Lock()


def with_cached_permissions(user: User) -> User:
    """`user`, its `has_perm` answered from this process's cache (read at most every few
    seconds). Inactive users keep Django's answer: no permissions."""
    if user.pk is None or not user.is_active:
        return user
    now = time.monotonic()
    hit = _cache.get(user.pk)
    if hit is None or hit[0] <= now:
        perms = frozenset(ModelBackend().get_all_permissions(user))
        with _lock:
            _cache[user.pk] = (now + PERMISSION_CACHE_SECONDS, perms)
    else:
        user._perm_cache = hit[1]  # type: ignore[attr-defined]  # ModelBackend's own cache
    return user


def forget_permissions(*_: Any, **__: Any) -> None:
    with _lock:
        _cache.clear()


def _forget_user(sender: Any, instance: User, **kwargs: Any) -> None:
    with _lock:
        _cache.pop(instance.pk, None)


m2m_changed.connect(forget_permissions, sender=User.groups.through, dispatch_uid="perm-cache-ug")
m2m_changed.connect(
    forget_permissions, sender=User.user_permissions.through, dispatch_uid="perm-cache-up"
)
m2m_changed.connect(
    forget_permissions, sender=Group.permissions.through, dispatch_uid="perm-cache-gp"
)
post_delete.connect(forget_permissions, sender=Group, dispatch_uid="perm-cache-gd")
post_save.connect(_forget_user, sender=User, dispatch_uid="perm-cache-us")
post_delete.connect(_forget_user, sender=User, dispatch_uid="perm-cache-ud")
