"""Counting what an API call reads, for the tests of what is kept between requests."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def reads_of(api, table, path="/candidates"):
    """How many of the statements a successful GET of `path` ran name `table`."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path)
    assert response.status_code == 200
    return sum(table in q["sql"] for q in queries.captured_queries)
