"""How many SMS segments a text costs, counted exactly as Twilio's segment calculator does.

Rules (DESIGN: Sending): a text made only of GSM-7 characters fits 160 septets in one
segment, 153 per part once split; the extension characters (``^{}\\[~]|€`` and form feed)
take two septets and an escape pair is never split. Any other character makes the whole
text UCS-2: 70 code units in one segment, 67 per part; a surrogate pair is never split.
Like Twilio's calculator, a grapheme cluster (an emoji with its skin tone, a flag, a
letter with its combining accent) is never split either, and "characters" counts septets
for GSM-7 and grapheme clusters for UCS-2.

Hot path: this runs for every keystroke preview and every send, so the common shapes
(pure ASCII, GSM-7 text, UCS-2 text without combining sequences) avoid per-character
Python loops; only texts with combining sequences are split into clusters.
"""

import re
from bisect import bisect_left
from itertools import repeat
from typing import NamedTuple

from hiretext.messaging.unicode10 import RANGES

GSM7 = "GSM-7"
UCS2 = "UCS-2"

SINGLE_GSM = 160  # septets in an unsplit GSM-7 message
PART_GSM = 153  # septets per part: 1120 bits less a 6-octet header, 7 bits each
SINGLE_UCS2 = 70
PART_UCS2 = 67

# The GSM 03.38 default alphabet as Twilio maps it (its table has no backtick, no ç).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"
GSM_CHARS = frozenset(GSM_BASIC + GSM_EXTENSION)

_BASIC_ASCII = bytes(sorted({ord(c) for c in GSM_BASIC if ord(c) < 128}))
_EXT_ASCII = bytes(sorted({ord(c) for c in GSM_EXTENSION if ord(c) < 128}))
_NON_GSM = re.compile("[^" + re.escape(GSM_BASIC + GSM_EXTENSION) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _class(*names: str) -> str:
    parts = []
    for name in names:
        for first, last in RANGES[name]:
            parts.append(f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}")
    return "".join(parts)


_CONTROLISH = _class("CR", "LF", "Control")
_EXTEND = _class("Extend")
_EMOD = _class("E_Modifier")
_EBASE = _class("E_Base", "E_Base_GAZ")
_ZWJ = _class("ZWJ")
# GB11 (Unicode 10): ZWJ × (Glue_After_Zwj | E_Base_GAZ), whatever precedes the ZWJ.
_GLUED = (
    f"[{_ZWJ}](?:[{_class('Glue_After_Zwj')}]|[{_class('E_Base_GAZ')}](?:[{_EXTEND}]?[{_EMOD}])?)"
)
_RI = _class("Regional_Indicator")
_L, _V, _T, _LV, _LVT = (_class(n) for n in ("L", "V", "T", "LV", "LVT"))

# Characters that can join a neighbour into one cluster; without any of them every code
# point is a cluster of its own (Twilio also splits CR LF into two). The BMP ones are one
# compact character class (a constant-time lookup); astral ones are checked separately.
_JOINING = ("Extend", "ZWJ", "SpacingMark", "Prepend", "Regional_Indicator", "L", "V", "T")
_JOINERS_BMP = re.compile(
    "["
    + "".join(
        f"\\U{first:08x}-\\U{min(last, 0xFFFF):08x}"
        for name in _JOINING
        for first, last in RANGES[name]
        if first <= 0xFFFF
    )
    + "]"
)
_JOINERS_ASTRAL = frozenset(
    chr(code)
    for name in (*_JOINING, "E_Modifier")
    for first, last in RANGES[name]
    for code in range(max(first, 0x10000), last + 1)
)


# UAX #29 (Unicode 10) extended grapheme clusters as the calculator's splitter finds them:
# CR and LF always alone; a flag (RI RI) takes at most one extending mark; an emoji base
# takes its skin tone across at most one extending mark.
_MARK = f"[{_EXTEND}{_ZWJ}{_class('SpacingMark')}]"
_CLUSTER = re.compile(
    f"[{_CONTROLISH}]"
    f"|[{_RI}][{_RI}]{_MARK}?"
    f"|[{_class('Prepend')}]*"
    "(?:"
    f"[{_L}]*(?:[{_V}]+|[{_LV}][{_V}]*|[{_LVT}])[{_T}]*|[{_L}]+|[{_T}]+"
    f"|[{_EBASE}](?:[{_EXTEND}]?[{_EMOD}])?"
    f"|{_GLUED}"
    f"|[^{_CONTROLISH}]"
    ")"
    f"(?:{_GLUED}|{_MARK})*",
    re.DOTALL,
)


class Segments(NamedTuple):
    segments: int
    encoding: str  # GSM7 or UCS2
    characters: int  # septets (GSM-7) or grapheme clusters (UCS-2), as Twilio counts


def analyze(text: str) -> Segments:
    """`count` with named fields, for callers off the hot path."""
    return Segments(*count(text))


def count(text: str) -> tuple[int, str, int]:
    """(segments, encoding, characters) of `text`; the empty text is one segment.

    A plain tuple: building a NamedTuple costs more than the counting itself here.
    """
    n = len(text)
    if text.isascii():
        rest = text.encode().translate(None, _BASIC_ASCII)
        if not rest:
            return (1 if n <= SINGLE_GSM else -(-n // PART_GSM), GSM7, n)
        if not rest.translate(None, _EXT_ASCII):
            return _gsm_with_extensions(text, n, len(rest))
        # ASCII but not GSM-7 (a backtick, a control character): one unit per character.
        return (1 if n <= SINGLE_UCS2 else -(-n // PART_UCS2), UCS2, n)
    if _NON_GSM.search(text) is None:
        return _gsm_with_extensions(text, n, sum(map(text.count, GSM_EXTENSION)))
    return _ucs2(text, n)


def segment_count(text: str) -> int:
    """Just the number of segments (what a send costs)."""
    return count(text)[0]


def _gsm_with_extensions(text: str, n: int, extensions: int) -> tuple[int, str, int]:
    septets = n + extensions
    if septets <= SINGLE_GSM:
        return (1, GSM7, septets)
    if not extensions:
        return (-(-n // PART_GSM), GSM7, septets)
    return (_pack_gsm(text, n), GSM7, septets)


def _ucs2(text: str, n: int) -> tuple[int, str, int]:
    astral = _ASTRAL.findall(text)
    if _JOINERS_BMP.search(text) is None and _JOINERS_ASTRAL.isdisjoint(astral):
        # Every code point is its own cluster: BMP ones take one unit, astral ones two.
        if not astral:
            return (1 if n <= SINGLE_UCS2 else -(-n // PART_UCS2), UCS2, n)
        doubles = [m.start() for m in _ASTRAL.finditer(text)]
        units = n + len(doubles)
        if units <= SINGLE_UCS2:
            return (1, UCS2, n)
        return (_pack_pairs(n, doubles, PART_UCS2), UCS2, n)
    clusters = _CLUSTER.findall(text)
    sizes = [len(c) + len(_ASTRAL.findall(c)) for c in clusters]
    return (_pack(sizes, SINGLE_UCS2, PART_UCS2), UCS2, len(clusters))


def _pack_gsm(text: str, n: int) -> int:
    """Parts of 153 septets, an extension character (two septets) never split.

    For a part starting at `start`, the window of 153 characters holding `e` extension
    characters ends the part at most `e` characters early: count them in C (bytes
    `translate`, or bounded `str.count`) and walk only those last few characters.
    """
    if text.isascii():
        raw = text.encode()

        def extensions(i: int, j: int) -> int:
            window = raw[i:j]
            return len(window) - len(window.translate(None, _EXT_ASCII))
    else:

        def extensions(i: int, j: int) -> int:
            return sum(map(text.count, GSM_EXTENSION, repeat(i, 10), repeat(j, 10)))

    parts, start = 0, 0
    while start < n:
        parts += 1
        end = min(start + PART_GSM, n)
        doubles = extensions(start, end)
        if end == n and n - start + doubles <= PART_GSM:
            break
        end -= doubles
        used = PART_GSM - doubles + extensions(start, end)
        while end < n:
            used += 2 if text[end] in GSM_EXTENSION else 1
            if used > PART_GSM:
                break
            end += 1
        start = end
    return parts


def _pack_pairs(n: int, doubles: list[int], cap: int) -> int:
    """Parts of `cap` units for `n` items weighing 1, or 2 at the sorted `doubles` indexes.

    An item never straddles two parts. The weight before index j is j + (doubles before
    j), strictly increasing, so each part's end is found by binary search.
    """
    parts, start = 0, 0
    while start < n:
        parts += 1
        limit = start + bisect_left(doubles, start) + cap  # weight allowed before the end
        if n + len(doubles) <= limit:
            break
        low, high = start + cap // 2, min(n, limit)  # low fits; the answer is in [low, high]
        while low < high:
            mid = (low + high + 1) // 2
            if mid + bisect_left(doubles, mid) <= limit:
                low = mid
            else:
                high = mid - 1
        start = low
    return parts


def _pack(sizes: list[int], single: int, part: int) -> int:
    """Twilio's segment builder, unit for unit (also for clusters longer than a part).

    Fill the first segment up to `single`; on the first overflow it gets a header, keeps
    what fits in `part` and hands the rest to the next segment. A cluster that does not
    fit the free space opens a new segment and is placed there even if it is too big.
    """
    if sum(sizes) <= single:
        return 1
    segments, used, first, split = 1, 0, [], False
    for size in sizes:
        room = (part if split else single) - used
        if size <= room:
            used += size
            if not split:
                first.append(size)
            continue
        segments += 1
        if not split:
            split = True
            kept, moved = sum(first), 0
            while kept > part:
                last = first.pop()
                kept -= last
                moved += last
            used = moved + size
        else:
            used = size
    return segments
