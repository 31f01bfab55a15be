"""Opt-out, opt-in and help keywords in an inbound text (DESIGN: Consent).

The whole message is the keyword: case, width (NFKC), surrounding spaces and punctuation
and the spaces inside ("STOP ALL", "opt out") are ignored; a sentence that merely
contains a keyword ("I'll stop by at 5") is not one.
"""

import enum
import re
import unicodedata


class Keyword(enum.Enum):
    STOP = "stop"
    START = "start"
    HELP = "help"


STOP_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"}
)
START_WORDS = frozenset({"start", "unstop", "yes"})
HELP_WORDS = frozenset({"help", "info"})
_WORD = re.compile(r"[^\W_]+")
MAX_KEYWORD_MESSAGE = 40  # longer texts are sentences, not keywords


def classify(body: str) -> Keyword | None:
    """The keyword family `body` belongs to, or None for an ordinary message."""
    if len(body) > MAX_KEYWORD_MESSAGE * 4:
        return None
    text = unicodedata.normalize("NFKC", body).casefold()
    words = _WORD.findall(text)
    if not words or len(words) > 3:
        return None
    if any(not w.isascii() for w in words):
        return None
    joined = "".join(words)
    if len(joined) > MAX_KEYWORD_MESSAGE:
        return None
    if joined in STOP_WORDS:
        return Keyword.STOP
    if joined in START_WORDS:
        return Keyword.START
    if joined in HELP_WORDS:
        return Keyword.HELP
    return None
