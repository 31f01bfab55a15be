"""`|snippet:n`: Django's `truncatechars`, without its walk over every character of a text
that is short enough already.

`truncatechars` normalises the text (NFC), then counts it character by character, leaving
out combining marks, before it knows there is nothing to cut: for the message previews of
a chat list, nearly all shorter than the limit, that walk was most of the filter's time. A
normalised text no longer than `n` characters has at most `n` that count, so it is
returned as `truncatechars` would return it; a longer one goes to `truncatechars`' own code.
"""

import unicodedata

from django import template
from django.template.defaultfilters import stringfilter
from django.utils.text import Truncator

register = template.Library()


@register.filter(is_safe=True)
@stringfilter
def snippet(value: str, length: int | str) -> str:
    try:
        limit = int(length)
    except ValueError:  # as `truncatechars`: an argument that is not a number changes nothing
        return value
    text = unicodedata.normalize("NFC", value)
    if limit > 0 and len(text) <= limit:
        return text
    return Truncator(text).chars(limit)
