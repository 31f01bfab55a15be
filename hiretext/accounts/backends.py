"""Django's model backend, loading the signed-in user with their organisation.

Every page reads `request.user.organization` (its time zone, in the middleware, and the
tenant in every query): one plain SELECT (prepared on PostgreSQL) loads both, instead of
an ORM query that took longer to build than to run, on every request.
"""

from functools import cache
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import connection

from hiretext.accounts.models import Organization, User
from hiretext.ats.queries import MAX_ID
from hiretext.lib import loaded, prepared


@cache
def _user_statement(vendor: str) -> str:
    return (
        f"SELECT {loaded.columns(User, 'u')}, {loaded.columns(Organization, 'o')} "  # noqa: S608 - names from models
        "FROM accounts_user u LEFT JOIN accounts_organization o ON o.id = u.organization_id "
        "WHERE u.id = %s"
    )


def user_with_organization(user_id: Any) -> User | None:
    """The user with this id (as a session stores it), their organisation loaded; None if
    there is no such user or the id is not one."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        return None
    if not 0 < pk <= MAX_ID:
        return None
    row = prepared.fetchone(_user_statement(connection.vendor), [pk])
    if row is None:
        return None
    user = loaded.build(User, row)
    assert user is not None
    user.organization = loaded.build(Organization, row, loaded.width(User))
    return user


class OrganizationBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        user = user_with_organization(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
