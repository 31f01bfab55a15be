"""Property tests: arbitrary text never gets past the phone and cursor parsers unchecked."""

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hiretext.ats import queries
from hiretext.ats.models import Candidate
from hiretext.lib.errors import DomainError
from hiretext.lib.pagination import decode_cursor
from hiretext.lib.phones import normalize_phone

PHONE_CHARS = st.sampled_from("0123456789+-() .x#*ext:tel")


@given(st.one_of(st.text(max_size=60), st.text(PHONE_CHARS, max_size=30)))
def test_normalize_phone_returns_e164_or_refuses_with_its_code(text):
    try:
        e164 = normalize_phone(text)
    except DomainError as exc:
        assert exc.code == "invalid_phone_number"
        assert exc.message
    else:
        assert e164.startswith("+")
        assert e164[1:].isdigit()
        assert len(e164) <= 16  # fits Person.mobile
        assert normalize_phone(e164) == e164  # stable


@given(st.text(max_size=600))
def test_decode_cursor_accepts_only_well_formed_cursors(text):
    try:
        values = decode_cursor(text, 3)
    except DomainError as exc:
        assert exc.code == "validation_error"
    else:
        assert len(values) == 3


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)


@pytest.mark.django_db
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(JSONISH, min_size=0, max_size=4))
def test_any_json_cursor_gives_a_page_or_a_validation_error(admin, values):
    if not Candidate.objects.exists():
        for name in ("Ana", "Bo", "Cy"):
            Candidate.objects.create(organization=admin.organization, first_name=name)
    raw = json.dumps(values).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    try:
        rows, _ = queries.search_candidates(admin, "", cursor, limit=2)
    except DomainError as exc:
        assert exc.code == "validation_error"
    else:
        assert len(rows) <= 2
