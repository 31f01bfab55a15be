"""Comparing HTML written two ways (a template's loop and Python) as a browser reads it."""

import re


def same_markup(html: str) -> str:
    """Whitespace between and inside tags as a browser reads it (the template's indents)."""
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()
