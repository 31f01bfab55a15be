"""Assertions on application/problem+json answers, shared by the API and page tests."""


def assert_problem(resp, status, code, detail=None):
    """The answer is problem+json with this status and code; `detail` must appear in it."""
    assert resp.status_code == status, resp.content[:500]
    assert resp["Content-Type"] == "application/problem+json", resp["Content-Type"]
    body = resp.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"].endswith("/" + code)
    assert body["title"]
    assert body["detail"]
    if detail is not None:
        assert detail in body["detail"], body["detail"]
    return body
