"""`{% timestamp %}` prints what Django's `date` filter prints, in the organisation's zone."""

import zoneinfo
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

FORMATS = ["M j, H:i", "M j, H:i T", "M j, Y", "M j, Y H:i T", "M j, Y, g:i A", r"\a\t H:i \o\n l"]
MOMENTS = [
    datetime(2026, 12, 3, 15, 40, 12, 123456, tzinfo=UTC),
    datetime(2026, 7, 1, 0, 5, tzinfo=UTC),  # summer time, and the day before locally
    datetime(2027, 1, 9, 23, 59, 59, tzinfo=UTC),
]


def render(source: str, **context) -> str:
    return Template("{% load timestamps %}" + source).render(Context(context))


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kolkata", "UTC"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_text_and_attribute_as_the_date_filter(zone, fmt):
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for moment in MOMENTS:
            expected = render(
                "<time datetime=\"{{ v|date:'c' }}\">{{ v|date:f }}</time>", v=moment, f=fmt
            )
            assert render("{% timestamp v f %}", v=moment, f=fmt) == expected


def test_class_and_title_attributes():
    moment = datetime(2026, 12, 3, 15, 40, tzinfo=UTC)
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        html = render('{% timestamp v "M j, Y" css="muted small" title="M j, Y H:i T" %}', v=moment)
    assert html == (
        '<time datetime="2026-12-03T10:40:00-05:00" class="muted small" '
        'title="Dec 3, 2026 10:40 EST">Dec 3, 2026</time>'
    )


def test_no_value_prints_nothing_and_attributes_are_escaped():
    assert render('{% timestamp v "M j" %}', v=None) == ""
    moment = datetime(2026, 12, 3, 15, 40, tzinfo=UTC)
    with timezone.override(UTC):
        html = render('{% timestamp v "M j" css=c %}', v=moment, c='x" onmouseover="alert(1)')
    assert 'class="x&quot; onmouseover=&quot;alert(1)"' in html
    assert 'onmouseover="' not in html


@pytest.mark.parametrize("language", ["fr", "de", "en"])
def test_month_names_follow_the_active_language(language):
    from django.utils import translation

    moment = datetime(2026, 2, 3, 15, 40, tzinfo=UTC)
    with timezone.override(UTC), translation.override(language):
        expected = render('{{ v|date:"M j, Y H:i T" }}', v=moment)
        assert render('{% timestamp v "M j, Y H:i T" %}', v=moment) == (
            f'<time datetime="2026-02-03T15:40:00+00:00">{expected}</time>'
        )


def test_an_ambiguous_local_time_prints_as_the_date_filter_prints_it():
    """The hour that repeats when summer time ends: Django prints no zone name for it."""
    zone = zoneinfo.ZoneInfo("America/New_York")
    repeated = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 local, the first time
    with timezone.override(zone):
        for fmt in ("M j, H:i T", "H:i T"):
            expected = render("{{ v|date:f }}", v=repeated, f=fmt)
            assert render("{% timestamp v f %}", v=repeated, f=fmt).endswith(f">{expected}</time>")
