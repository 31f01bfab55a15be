"""Inbox fixtures: two recruiters on one number, a third on another, a candidate who replies."""

import pytest

from hiretext.messaging.tests.conftest import ALEX, NUMBER, inbound, make_candidate, make_number

OTHER_NUMBER = "+14155550101"

__all__ = ["ALEX", "NUMBER", "OTHER_NUMBER", "inbound"]


@pytest.fixture
def immediate(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def team(org, recruiter, make_user):
    """recruiter + dana2 on NUMBER; third on OTHER_NUMBER (same organisation)."""
    second = make_user("recruiter2@acme.test", first="Sam", last="Okafor")
    third = make_user("recruiter3@acme.test", first="Jo", last="Third")
    number = make_number(org, [recruiter, second])
    other = make_number(org, [third], e164=OTHER_NUMBER, position=2)
    return number, other, recruiter, second, third


@pytest.fixture
def alex(org, recruiter):
    return make_candidate(org, recruiter)
