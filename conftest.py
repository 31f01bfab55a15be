"""Shared fixtures: organisations, users in each role, API clients, the browser."""

import os

import pytest
from django.db import connection

from hiretext.accounts.models import Organization, Role
from hiretext.accounts.services import create_user, ensure_roles

# The Twilio API mock (Prism) and the guard against outbound network access.
pytest_plugins = ["tests.mocks.twilio_api", "tests.mocks.drivers"]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("HIRETEXT_EXPECT_POSTGRES") and "postgres" not in os.environ.get(
        "DATABASE_URL", ""
    ):
        raise pytest.UsageError(
            "HIRETEXT_EXPECT_POSTGRES is set but DATABASE_URL is not PostgreSQL."
        )


@pytest.fixture(autouse=True, scope="session")
def _database_is_what_ci_expects(django_db_setup, django_db_blocker):
    """Fail loudly, never skip, when PostgreSQL was expected but is not what we run on."""
    if os.environ.get("HIRETEXT_EXPECT_POSTGRES"):
        with django_db_blocker.unblock():
            assert connection.vendor == "postgresql", (
                f"expected PostgreSQL, got {connection.vendor}"
            )
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Tests create many users: a fast hasher keeps their setup quick (tests only)."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def client():
    """The test client, with webhooks and bearer-token API calls on the machine middleware
    (`hiretext.lib.wsgi`), as in production."""
    from tests.routing_client import RoutingClient

    return RoutingClient()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: no sign-in attempts counted by an earlier one."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_auth_caches():
    """Each test starts with no permissions or tokens kept: ids are reused after a
    rolled-back test, and a user of the last test must not lend its permissions to this one's."""
    from hiretext.accounts.permission_cache import forget_permissions
    from hiretext.accounts.token_cache import forget_tokens

    forget_permissions()
    forget_tokens()


@pytest.fixture
def roles(db):
    ensure_roles()


@pytest.fixture
def org(roles):
    return Organization.objects.create(name="Acme Staffing", time_zone="America/Los_Angeles")


@pytest.fixture
def other_org(roles):
    return Organization.objects.create(name="Beacon Talent", time_zone="America/New_York")


def _make_user(org, email, role, first="Test", last="User"):
    return create_user(
        org,
        email=email,
        password="pw-123456",
        first_name=first,
        last_name=last,
        roles=[role] if role else [],
    )


@pytest.fixture
def admin(org):
    return _make_user(org, "admin@acme.test", Role.ADMINISTRATOR, "Avery", "Admin")


@pytest.fixture
def recruiter(org):
    return _make_user(org, "recruiter1@acme.test", Role.RECRUITER, "Dana", "Li")


@pytest.fixture
def manager(org):
    return _make_user(org, "manager@acme.test", Role.HIRING_MANAGER, "Morgan", "Hale")


@pytest.fixture
def nobody(org):
    """A user of the organisation with no role at all."""
    return _make_user(org, "nobody@acme.test", None, "No", "Role")


@pytest.fixture
def other_admin(other_org):
    return _make_user(other_org, "admin@beacon.test", Role.ADMINISTRATOR, "Blair", "Beacon")


@pytest.fixture
def make_user(org):
    def make(email, role=Role.RECRUITER, first="Test", last="User", organization=None):
        return _make_user(organization or org, email, role, first, last)

    return make


class ApiClient:
    """Calls /api/v1 with a bearer token, the way a host ATS does."""

    def __init__(self, client, token):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method, path, json=None, headers=None, **kwargs):
        import json as _json

        extra = {**self.headers, **(headers or {})}
        data = _json.dumps(json) if json is not None else None
        fn = getattr(self.client, method)
        if data is not None:
            return fn(
                f"/api/v1{path}",
                data=data,
                content_type="application/json",
                headers=extra,
                **kwargs,
            )
        return fn(f"/api/v1{path}", headers=extra, **kwargs)

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, json=None, **kw):
        return self._call("post", path, json=json if json is not None else {}, **kw)

    def patch(self, path, json=None, **kw):
        return self._call("patch", path, json=json if json is not None else {}, **kw)

    def put(self, path, json=None, **kw):
        return self._call("put", path, json=json if json is not None else {}, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


@pytest.fixture
def api_as(client):
    """`api_as(user)` gives an API client authenticated with a fresh token of that user."""
    from hiretext.accounts.models import ApiToken

    def make(user):
        if user is None:
            return ApiClient(client, None)
        _, raw = ApiToken.issue(user)
        return ApiClient(client, raw)

    return make


def pytest_collection_modifyitems(config, items):
    """Browser tests last, on every worker. From the first one on, Playwright's sync API
    keeps an event loop (with its own context) in the main thread; a plain test after it
    opens database connections there that the test database's teardown never closes
    (PostgreSQL then refuses to drop a database "being accessed by other users")."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
