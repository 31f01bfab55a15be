"""Keyword families: the whole message, any case, surrounding spaces/punctuation ignored."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiretext.messaging.keywords import HELP_WORDS, START_WORDS, STOP_WORDS, Keyword, classify

SPELLINGS = {
    Keyword.STOP: [
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPTOUT",
        "OPT OUT",
        "REVOKE",
    ],
    Keyword.START: ["START", "UNSTOP", "YES"],
    Keyword.HELP: ["HELP", "INFO"],
}
padding = st.text(alphabet=" \t\n.!?,;:-()'\"*", max_size=4)


def recase(word, flips):
    return (
        "".join(c.lower() if f else c for c, f in zip(word, flips, strict=False))
        + word[len(flips) :]
    )


@settings(max_examples=300)
@given(
    family=st.sampled_from(list(SPELLINGS)),
    index=st.integers(min_value=0, max_value=20),
    flips=st.lists(st.booleans(), max_size=12),
    before=padding,
    after=padding,
)
def test_keywords_with_any_case_and_padding(family, index, flips, before, after):
    word = SPELLINGS[family][index % len(SPELLINGS[family])]
    assert classify(before + recase(word, flips) + after) is family


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_classify_never_fails(text):
    result = classify(text)
    assert result is None or isinstance(result, Keyword)


@pytest.mark.parametrize(
    "text",
    [
        "I'll stop by at 5",
        "please don't stop",
        "stopping",
        "yes please call me tomorrow",
        "help me find the address",
        "the end",
        "",
        "   ",
        "STOP" * 20,
        "st0p",
    ],
)
def test_sentences_are_not_keywords(text):
    assert classify(text) is None


def test_full_width_and_fancy_punctuation():
    assert classify("ＳＴＯＰ") is Keyword.STOP
    assert classify("« Stop ! »") is Keyword.STOP
    assert classify("Yes!!!") is Keyword.START


def test_word_lists_are_disjoint():
    assert not (STOP_WORDS & START_WORDS or STOP_WORDS & HELP_WORDS or START_WORDS & HELP_WORDS)
