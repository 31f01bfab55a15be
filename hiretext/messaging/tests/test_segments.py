"""Segment counting: against an independent reference (hypothesis) and Twilio's own counts.

The reference below is deliberately naive: it is given the message as a list of
clusters (so it needs no Unicode tables) and simulates a segment bit by bit as Twilio's
calculator describes it: 1120 bits, a 48-bit header once split, 7-bit septets or 16-bit
units, and no cluster (escape pair, surrogate pair, emoji sequence) split across parts.
"""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiretext.messaging import segments

GSM_BASIC = segments.GSM_BASIC
GSM_EXT = segments.GSM_EXTENSION
NON_GSM_BMP = "áíóúçâ“”’–…中文한Ж`"
ASTRAL = ["😀", "🎉", "👍", "𝔸", "🚀"]
CLUSTERS = ["👍🏽", "👩‍💻", "🇺🇸", "1️⃣", "❤️", "e\u0301", "👨‍👩‍👧‍👦"]


def reference(tokens):
    """Segments, encoding, characters of the message made of these clusters."""
    gsm = all(t in GSM_BASIC or t in GSM_EXT for t in tokens)
    header, total = 48, 1120

    def bits(t):
        if gsm:
            return 14 if t in GSM_EXT else 7
        return 16 * len(t.encode("utf-16-le")) // 2

    sizes = [bits(t) for t in tokens]
    if sum(sizes) <= total:
        count = 1
    else:
        count, free = 1, total - header
        for size in sizes:
            if size > free:
                count, free = count + 1, total - header
            free -= size
    characters = sum(2 if t in GSM_EXT else 1 for t in tokens) if gsm else len(tokens)
    return count, ("GSM-7" if gsm else "UCS-2"), characters


gsm_token = st.sampled_from(list(GSM_BASIC) + list(GSM_EXT))
any_token = st.one_of(
    gsm_token,
    st.sampled_from(list(NON_GSM_BMP)),
    st.sampled_from(ASTRAL),
    st.sampled_from(CLUSTERS),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(gsm_token, max_size=700))
def test_gsm_matches_reference(tokens):
    assert segments.count("".join(tokens)) == reference(tokens)


@settings(max_examples=400, deadline=None)
@given(st.lists(any_token, max_size=400))
def test_mixed_matches_reference(tokens):
    text = "".join(tokens)
    assert segments.count(text) == reference(tokens)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_never_fails_and_is_consistent(text):
    count, encoding, characters = segments.count(text)
    assert count >= 1 and encoding in ("GSM-7", "UCS-2") and characters >= 0
    assert segments.analyze(text).segments == count == segments.segment_count(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (1, "GSM-7", 0)),
        ("a" * 160, (1, "GSM-7", 160)),
        ("a" * 161, (2, "GSM-7", 161)),
        ("a" * 306, (2, "GSM-7", 306)),
        ("a" * 307, (3, "GSM-7", 307)),
        ("a" * 159 + "€", (2, "GSM-7", 161)),  # the escape pair does not fit in 160
        ("a" * 152 + "^" + "b" * 10, (2, "GSM-7", 164)),  # pair moves whole to part 2
        ("á" * 70, (1, "UCS-2", 70)),
        ("á" * 71, (2, "UCS-2", 71)),
        ("á" * 134, (2, "UCS-2", 134)),
        ("á" * 135, (3, "UCS-2", 135)),
        ("á" * 66 + "😀" + "a" * 66, (3, "UCS-2", 133)),  # the surrogate pair is never split
        ("`", (1, "UCS-2", 1)),  # a backtick is not GSM-7
        ("a\r\nb", (1, "GSM-7", 4)),
    ],
)
def test_known_counts(text, expected):
    assert segments.count(text) == expected


FIXTURE = Path(__file__).parent / "fixtures" / "twilio_segments.json"


def test_equals_twilios_calculator_on_its_own_counts():
    """Counts made by Twilio's sms-segments-calculator 1.3.0 on varied texts."""
    cases = json.loads(FIXTURE.read_text())["cases"]
    assert len(cases) > 500
    wrong = [
        c["text"][:40]
        for c in cases
        if segments.count(c["text"]) != (c["segments"], c["encoding"], c["characters"])
    ]
    assert wrong == []
