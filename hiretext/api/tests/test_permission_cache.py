"""The API reads a user's permissions at most every few seconds, yet a role change made in
this process applies to the very next request."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hiretext.accounts.models import Role
from hiretext.api.tests.statements import reads_of

pytestmark = pytest.mark.django_db


def permission_reads(api):
    return reads_of(api, "auth_permission")


def test_permissions_are_read_once_then_cached(api_as, recruiter):
    api = api_as(recruiter)
    assert permission_reads(api) == 2  # the user's own and its groups'
    assert permission_reads(api) == 0


def test_losing_a_role_takes_effect_on_the_next_request(api_as, recruiter, alex_like):
    api = api_as(recruiter)
    assert api.get("/candidates").status_code == 200
    recruiter.groups.set([Group.objects.get(name=Role.HIRING_MANAGER)])
    response = api.post("/messages", {"candidate_id": alex_like.pk, "body": "Hi"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_group_losing_a_permission_takes_effect_on_the_next_request(api_as, recruiter, alex_like):
    api = api_as(recruiter)
    api.get("/candidates")
    group = Group.objects.get(name=Role.RECRUITER)
    group.permissions.remove(*group.permissions.filter(codename="recruitment_sms"))
    response = api.post("/messages", {"candidate_id": alex_like.pk, "body": "Hi"})
    assert response.status_code == 403


@pytest.fixture
def alex_like(make_person):
    return make_person("candidates", sms_consent=True)


def test_pages_read_permissions_once_too_and_see_a_lost_role_at_once(client, recruiter):
    client.force_login(recruiter)
    with CaptureQueriesContext(connection) as first:
        assert client.get("/inbox/chats/").status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get("/inbox/chats/").status_code == 200
    reads = [
        sum("auth_permission" in q["sql"] for q in c.captured_queries) for c in (first, second)
    ]
    assert reads == [2, 0]
    recruiter.groups.set([Group.objects.get(name=Role.HIRING_MANAGER)])
    assert client.get("/inbox/chats/").status_code == 403
