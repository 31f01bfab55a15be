"""The calibration views do what the ratios assume: 200 and exactly one row per INSERT."""

import pytest

from hiretext.benchprobe.models import Probe


@pytest.fixture
def bench_urls(settings):
    settings.ROOT_URLCONF = "hiretext.benchprobe.tests.urls"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "stack"), [("/bench/bare", "browser"), ("/webhooks/bench/bare", "machine")]
)
def test_bare_answers_200_without_touching_the_database(
    client, bench_urls, django_assert_num_queries, path, stack
):
    with django_assert_num_queries(0):
        response = client.get(path)
    assert response.status_code == 200
    assert response.content == b"ok"
    assert client.handler.handled == [stack]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/bench/insert", "/bench/insert-raw"])
def test_insert_writes_one_row_in_one_statement(
    client, bench_urls, path, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = client.post(path)
    assert response.status_code == 200
    assert Probe.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/bench/bare", "/webhooks/bench/bare"])
def test_probe_urls_are_absent_without_the_setting(client, path):
    assert client.get(path).status_code == 404
