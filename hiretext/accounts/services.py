"""Changes to organisations, users and tokens."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.utils import timezone

from hiretext.accounts import throttle, token_cache
from hiretext.accounts.models import (
    ROLE_PERMISSIONS,
    ApiToken,
    Organization,
    Role,
    User,
    hash_token,
)
from hiretext.lib import loaded, prepared
from hiretext.lib.errors import DomainError


def ensure_roles() -> None:
    """Create the role groups with their permissions; safe to run again (after every migrate)."""
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = Permission.objects.filter(
            content_type__app_label="accounts", codename__in=codenames
        )
        group.permissions.set(perms)


def create_user(
    org: Organization,
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    roles: list[Role] | None = None,
) -> User:
    with transaction.atomic():
        user = User.objects.create_user(
            email, password, organization=org, first_name=first_name, last_name=last_name
        )
        if roles:
            user.groups.set(Group.objects.filter(name__in=roles))
    return user


def issue_token(email: str, password: str, address: str = "") -> str:
    """Exchange e-mail and password for a new API token (the raw value is shown once).

    `address`: the client's, for the sign-in throttle (`throttle`), which it shares with
    the sign-in page."""
    throttle.attempt(email, address)
    user = authenticate(username=(email or "").strip().lower(), password=password)
    if user is None or not isinstance(user, User) or not user.is_active:
        raise DomainError("invalid_credentials", "E-mail or password is wrong.", status=401)
    throttle.succeeded(email, address)
    _, raw = ApiToken.issue(user)
    return raw


LAST_USED_EVERY = 300  # seconds: how stale a token's `last_used_at` may be


@cache
def _token_statement(vendor: str) -> str:
    return (
        f"SELECT {loaded.columns(ApiToken, 't')}, {loaded.columns(User, 'u')}, "  # noqa: S608
        f"{loaded.columns(Organization, 'o')} FROM accounts_apitoken t "
        "JOIN accounts_user u ON u.id = t.user_id "
        "LEFT JOIN accounts_organization o ON o.id = u.organization_id "
        "WHERE t.key_hash = %s AND u.is_active"
    )


@dataclass(frozen=True)
class _TokenUser:
    """A token's row, its values converted: what each request builds its own user from."""

    token_id: int
    last_used_at: datetime | None
    user: tuple[Any, ...]
    organization: tuple[Any, ...]


def _token_user(row: Sequence[Any]) -> _TokenUser:
    token = loaded.field_values(ApiToken, row)
    user_at = loaded.width(ApiToken)
    return _TokenUser(
        token_id=token[_TOKEN_ID],
        last_used_at=token[_TOKEN_LAST_USED],
        user=tuple(loaded.field_values(User, row, user_at)),
        organization=tuple(loaded.field_values(Organization, row, user_at + loaded.width(User))),
    )


_TOKEN_ID, _TOKEN_LAST_USED = (
    [f.attname for f in ApiToken._meta.concrete_fields].index(name)
    for name in ("id", "last_used_at")
)


def user_for_token(raw: str) -> User | None:
    """The active user of the token, with its organisation, its row kept a few seconds
    (`token_cache`); `last_used_at` is refreshed at most every five minutes. One plain SELECT:
    every API request runs it."""
    key_hash = hash_token(raw)
    found = token_cache.cached(key_hash)
    if found is None:
        row = prepared.fetchone(_token_statement(connection.vendor), [key_hash])
        if row is None:
            return None
        found = _token_user(row)
        now = timezone.now()
        last = found.last_used_at
        if last is None or (now - last).total_seconds() > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=found.token_id).update(last_used_at=now)
            found = replace(found, last_used_at=now)
        token_cache.keep(key_hash, found)
    user = loaded.from_values(User, found.user)
    assert user is not None
    user.organization = loaded.from_values(Organization, found.organization)
    return user
