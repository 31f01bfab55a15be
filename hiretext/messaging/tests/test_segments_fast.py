"""Segment counting: the fast paths agree with the exact grapheme splitter on any text.

`count` answers most texts from bytes operations and a scan for joining characters; the
exact way splits every grapheme cluster with the full Unicode 10 tables. Random texts
mixing every break class (and GSM-7 text with escapes around part boundaries) must get
the same answer both ways.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiretext.messaging import segments
from hiretext.messaging.tests.test_segments import reference
from hiretext.messaging.unicode10 import RANGES


def exact(text):
    """The slow, plain answer: GSM-7 septets, or every cluster from the full tables."""
    if all(c in segments.GSM_CHARS for c in text):
        return reference(list(text))
    return segments._ucs2_exact(text)


def _samples(ranges):
    return sorted({code for first, last in ranges for code in (first, (first + last) // 2, last)})


# A few code points of every break class (lone surrogates included), everyday emoji
# (bases, skin tones, ZWJ sequences, flags), GSM-7 and ASCII.
BREAK_CLASSES = [chr(code) for ranges in RANGES.values() for code in _samples(ranges)]
CLUSTERS = ["👍🏽", "👩\u200d💻", "🇫🇷", "🇺🇸", "🏳\ufe0f\u200d🌈", "👨\u200d👩\u200d👧", "e\u0301"]
CLUSTERS += ["😀", "🎉"]
EVERYDAY = [c for cluster in CLUSTERS for c in cluster] + ["€", "Δ", "ç", "中", "`"]
GSM = list(segments.GSM_BASIC + segments.GSM_EXTENSION)
ASCII_LETTERS = list("abcdefghij ")

any_char = st.one_of(
    st.sampled_from(ASCII_LETTERS),
    st.sampled_from(GSM),
    st.sampled_from(EVERYDAY),
    st.sampled_from(BREAK_CLASSES),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(any_char, max_size=400))
def test_any_text_as_the_exact_way(chars):
    text = "".join(chars)
    assert segments.count(text) == exact(text)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(min_value=55, max_value=135),
    st.lists(st.sampled_from(CLUSTERS + EVERYDAY), min_size=1, max_size=6),
    st.sampled_from([133, 134, 135, 200, 201, 202, 268]),
)
def test_clusters_around_part_boundaries(before, clusters, total):
    """Clusters and surrogate pairs right at the 67-unit boundaries, in texts whose part
    count changes if one is split."""
    head = "a" * before + "".join(clusters)
    units = len(head.encode("utf-16-le", "surrogatepass")) // 2
    text = head + "b" * max(0, total - units)
    assert segments.count(text) == exact(text)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=140, max_value=320),
    st.lists(st.sampled_from(list(segments.GSM_EXTENSION) + ["é", "Δ"]), max_size=8),
    st.randoms(use_true_random=False),
)
def test_gsm_escapes_around_part_boundaries(length, extras, rng):
    chars = list("x" * length)
    for extra in extras:
        chars.insert(rng.randrange(len(chars) + 1), extra)
    text = "".join(chars)
    assert segments.count(text) == exact(text)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 65 + "👍🏽" + "a" * 65,  # the skin tone would start the next part
        "a" * 65 + "👨\u200d👩\u200d👧\u200d👦" + "a" * 70,  # a family across the boundary
        "a" * 66 + "🇫🇷🇺🇸🇫" + "a" * 70,  # flags pair from the left
        "\u0301" + "a" * 80,  # a mark with nothing to join
        "ç" * 80 + "😀",  # Latin-1 until the last character
        "Δ" * 100 + "€" * 40,  # GSM-7 outside Latin-1
        "\ud83d" + "a" * 90,  # a lone surrogate
        "𝔸" * 40,  # astral, outside the emoji block
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f" * 12,  # tag sequences
    ],
)
def test_edge_texts_as_the_exact_way(text):
    assert segments.count(text) == exact(text)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from([*ASCII_LETTERS, *"^{}\\[~]|", "€", "`", "\x1b", "\r", "\n"]),
        max_size=480,
    )
)
def test_ascii_with_euro_signs_as_the_exact_way(chars):
    """ASCII but for "€" takes the bytes path with "^" in its place: the same answer, escapes
    at part boundaries and non-GSM-7 ASCII (UCS-2) included."""
    text = "".join(chars)
    assert segments.count(text) == exact(text)
