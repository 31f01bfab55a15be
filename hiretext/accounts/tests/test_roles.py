"""Roles are groups with fixed permissions; users belong to one organisation."""

import pytest
from django.contrib.auth.models import Group

from hiretext.accounts.models import ROLE_PERMISSIONS, ApiToken, Organization, Role, User
from hiretext.accounts.services import create_user, ensure_roles, user_for_token

pytestmark = pytest.mark.django_db


def group_perms(name):
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def test_roles_have_exactly_their_permissions(roles):
    assert group_perms("Administrator") == {c for c, _ in Organization._meta.permissions}
    assert group_perms("Recruiter") == {
        "recruitment_sms",
        "edit_people",
        "view_job_postings_page",
        "view_candidate_pool_page",
        "view_candidate_profile_page",
        "view_contacts_page",
    }
    assert group_perms("Hiring manager") == {
        "view_job_postings_page",
        "view_candidate_pool_page",
        "view_candidate_profile_page",
        "view_contacts_page",
    }


def test_ensure_roles_is_idempotent_and_repairs(roles):
    group = Group.objects.get(name="Hiring manager")
    group.permissions.clear()
    ensure_roles()
    ensure_roles()
    assert Group.objects.filter(name__in=list(ROLE_PERMISSIONS)).count() == 3
    assert len(group_perms("Hiring manager")) == 4


def test_create_user_normalises_email_and_sets_roles(org):
    user = create_user(
        org, email="Dana@ACME.test", password="pw", first_name="Dana", roles=[Role.RECRUITER]
    )
    assert user.email == "dana@acme.test"
    assert user.organization == org
    assert user.has_perm("accounts.recruitment_sms")
    assert not user.has_perm("accounts.manage_text_messaging")
    assert user.display_name == "Dana"
    bare = create_user(org, email="x@acme.test", password="pw")
    assert bare.display_name == "x@acme.test"
    assert not bare.get_all_permissions()


def test_tokens_are_stored_hashed_and_track_use(recruiter):
    token, raw = ApiToken.issue(recruiter)
    assert raw.startswith("ht_")
    assert raw not in token.key_hash
    assert token.prefix == raw[:8]
    assert user_for_token(raw) == recruiter
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert user_for_token(raw + "x") is None
    recruiter.is_active = False
    recruiter.save()
    assert user_for_token(raw) is None


def test_superuser_has_no_organisation():
    staff = User.objects.create_superuser("Staff@Hiretext.test", "pw")
    assert staff.organization is None
    assert staff.is_staff and staff.email == "staff@hiretext.test"
