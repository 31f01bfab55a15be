"""`|snippet` prints exactly what Django's `truncatechars` prints."""

import random

import pytest
from django.template import Context, Template
from django.template.defaultfilters import truncatechars

from hiretext.web.templatetags.snippets import snippet

PIECES = [
    "a", "Z", " ", "é", "e\u0301", "\u0301", "👍", "👩\u200d💻", "<b>", "&amp;", "\n", "ß",
    "\u1100\u1161", "Å", "A\u030a", "\u212b", "…", "ﬁ",
]  # fmt: skip


def texts():
    rng = random.Random(7)
    yield ""
    for size in (1, 2, 5, 10, 69, 70, 71, 89, 90, 91, 200):
        for _ in range(40):
            yield "".join(rng.choice(PIECES) for _ in range(size))


@pytest.mark.parametrize("limit", [0, 1, 2, 5, 70, 90, 500, -3, "70", "x"])
def test_the_same_as_truncatechars(limit):
    for text in texts():
        assert snippet(text, limit) == truncatechars(text, limit), (text, limit)


def test_in_a_template_it_escapes_as_truncatechars_does():
    body = "<script>alert(1)</script> & a long enough text to be cut somewhere in the middle"
    ours = Template("{% load snippets %}{{ b|snippet:20 }}").render(Context({"b": body}))
    django = Template("{{ b|truncatechars:20 }}").render(Context({"b": body}))
    assert ours == django
    assert "<script>" not in ours and "&lt;script&gt;" in ours
