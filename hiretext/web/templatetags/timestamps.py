"""`{% timestamp %}`: a `<time>` element in the organisation's zone, cheaply.

Lists show one or two times per row. Django's `date` filter splits its format string
with a regular expression on every call (14 µs for "M j, H:i T" here); the split is kept
per format instead, and the value is converted to local time once for both the
`datetime` attribute and the text. The specifiers a list prints (day, month, year, hour,
minute) are written directly; the rest go through Django's `DateFormat`, whose set-up
checks the zone's daylight-saving transitions. Formats are Django's `date` formats, same
output.
"""

import html
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

from django import template
from django.utils import timezone
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()


@lru_cache(maxsize=64)
def _pieces(fmt: str) -> tuple[tuple[bool, str], ...]:
    """`fmt` split as Django's `Formatter.format` splits it: (is a specifier, text)."""
    pieces = []
    for k, piece in enumerate(re_formatchars.split(fmt)):
        if k % 2:
            pieces.append((True, piece))
        elif piece:
            pieces.append((False, re_escaped.sub(r"\1", piece)))
    return tuple(pieces)


@lru_cache(maxsize=256)
def _month_abbreviation(language: str | None, month: int) -> str:
    """`M` in the active `language` (the argument keys the cache; the text is translated
    in the language that is active, which is that one)."""
    return str(MONTHS_3[month]).title()


# Django's `DateFormat` methods of the same letters, without its set-up.
_DIRECT: dict[str, Callable[[datetime], str]] = {
    "j": lambda d: str(d.day),
    "H": lambda d: f"{d.hour:02d}",
    "i": lambda d: f"{d.minute:02d}",
    "Y": lambda d: f"{d.year:04d}",
    "M": lambda d: _month_abbreviation(get_language(), d.month),
}


def format_local(value: datetime, fmt: str) -> str:
    """`value` (already local) in Django date format `fmt`: what `|date:fmt` prints."""
    formatter = None
    out = []
    for spec, piece in _pieces(fmt):
        if not spec:
            out.append(piece)
        elif (direct := _DIRECT.get(piece)) is not None:
            out.append(direct(value))
        else:
            formatter = formatter or DateFormat(value)
            out.append(str(getattr(formatter, piece)()))
    return "".join(out)


@lru_cache(maxsize=64)
def _class_attribute(css: str) -> str:
    return f' class="{html.escape(css)}"' if css else ""


@register.simple_tag
def timestamp(value: datetime | None, fmt: str, css: str = "", title: str = "") -> SafeString:
    """`<time datetime="ISO 8601" class="css" title="title-format">fmt</time>`; "" for None."""
    if value is None:
        return mark_safe("")
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    attrs = _class_attribute(css)
    if title:
        attrs += f' title="{html.escape(format_local(local, title))}"'
    # An ISO 8601 time has nothing to escape; the texts are escaped above and here (the
    # standard library's escape is Django's, without its check for lazy arguments).
    text = html.escape(format_local(local, fmt))
    return mark_safe(f'<time datetime="{local.isoformat()}"{attrs}>{text}</time>')  # noqa: S308
