"""The session's user comes with their organisation: one statement, not two."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hiretext.accounts.backends import OrganizationBackend

pytestmark = pytest.mark.django_db


def test_the_user_is_loaded_with_the_organisation(recruiter, org):
    with CaptureQueriesContext(connection) as captured:
        user = OrganizationBackend().get_user(recruiter.pk)
        assert user is not None
        assert user.organization.time_zone == org.time_zone
    assert len(captured) == 1


def test_an_inactive_or_unknown_user_is_nobody(recruiter):
    recruiter.is_active = False
    recruiter.save(update_fields=["is_active"])
    assert OrganizationBackend().get_user(recruiter.pk) is None
    assert OrganizationBackend().get_user(10**9) is None


@pytest.mark.parametrize("user_id", [None, "", "abc", "1.5", "0", "-3", str(2**63), 10**30, [1]])
def test_a_session_user_id_that_is_no_id_is_nobody(recruiter, user_id):
    """A session's stored id is only ever what login wrote; anything else is nobody."""
    assert OrganizationBackend().get_user(user_id) is None


def test_the_stored_id_as_a_string_finds_the_user(recruiter):
    user = OrganizationBackend().get_user(str(recruiter.pk))
    assert user == recruiter and user.email == recruiter.email


def test_a_page_reads_the_user_and_organisation_in_one_statement(recruiter, client):
    client.force_login(recruiter)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/inbox/chats/").status_code == 200
    from_users = [q["sql"] for q in captured.captured_queries if "FROM accounts_user" in q["sql"]]
    assert len(from_users) == 1 and "accounts_organization" in from_users[0]
    alone = 'SELECT "accounts_organization"'
    assert not [q for q in captured.captured_queries if q["sql"].startswith(alone)]


def test_signing_in_still_works_and_wrong_passwords_do_not(recruiter, client):
    assert client.login(username=recruiter.email, password="pw-123456")
    assert not client.login(username=recruiter.email, password="wrong")
