"""Changes to organisations, users and tokens."""

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from hiretext.accounts import throttle
from hiretext.accounts.models import (
    ROLE_PERMISSIONS,
    ApiToken,
    Organization,
    Role,
    User,
    hash_token,
)
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


def user_for_token(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user__organization")
        .filter(key_hash=hash_token(raw), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
