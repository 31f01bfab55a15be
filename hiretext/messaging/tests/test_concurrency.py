"""20 parallel sends against an allowance with 5 left: never more than the allowance.

Each thread is its own API client and database connection, released together by a
barrier. On PostgreSQL the requests overlap and the usage row lock / organisation row
lock decide; SQLite serialises the writers.
"""

import pytest
from django.db import transaction

from hiretext.accounts.models import ApiToken, Organization
from hiretext.billing import services as billing
from hiretext.billing.models import CreditEntry
from hiretext.messaging.models import Message
from hiretext.messaging.tests.conftest import make_candidate, make_number, parallel_api_posts
from hiretext.numbers.allowance import take_allowance, used_this_month

pytestmark = pytest.mark.django_db(transaction=True)

SENDS = 20


def parallel_sends(token, candidate_id):
    payloads = [{"candidate_id": candidate_id, "body": f"Message {i}"} for i in range(SENDS)]
    results = parallel_api_posts(token, payloads, [f"k{i}" for i in range(SENDS)])
    return [(status, body.get("code")) for status, body in results]


@pytest.fixture
def setup(org, recruiter):
    number = make_number(org, [recruiter], allowance=250)
    with transaction.atomic():
        take_allowance(number, 245)  # 5 left
    person = make_candidate(org, recruiter)
    _, token = ApiToken.issue(recruiter)
    return number, person, token


def test_refuse_policy_accepts_exactly_five(setup):
    number, person, token = setup
    results = parallel_sends(token, person.pk)
    accepted = [r for r in results if r[0] == 202]
    refused = [r for r in results if r[0] == 422]
    assert len(accepted) == 5
    assert refused == [(422, "allowance_exhausted")] * 15
    assert used_this_month(number) == 250
    assert Message.objects.count() == 5


def test_use_credits_charges_the_rest(org, setup):
    number, person, token = setup
    org.overage_policy = Organization.OveragePolicy.USE_CREDITS
    org.save()
    billing.top_up(org, 100)
    results = parallel_sends(token, person.pk)
    assert [r[0] for r in results].count(202) == SENDS
    assert used_this_month(number) == 250
    assert billing.balance(org) == 85
    assert CreditEntry.objects.filter(kind="debit").count() == 15


def test_use_credits_with_too_few_credits(org, setup):
    number, person, token = setup
    org.overage_policy = Organization.OveragePolicy.USE_CREDITS
    org.save()
    billing.top_up(org, 3)
    results = parallel_sends(token, person.pk)
    assert [r[0] for r in results].count(202) == 8
    assert sorted(r[1] for r in results if r[0] == 422) == ["insufficient_credits"] * 12
    assert billing.balance(org) == 0
    assert Message.objects.count() == 8
