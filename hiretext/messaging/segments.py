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
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import accumulate, repeat
from typing import NamedTuple

from hiretext.messaging.unicode10 import RANGES

GSM7 = "GSM-7"
UCS2 = "UCS-2"

SINGLE_GSM = 160  # septets in an unsplit GSM-7 message
PART_GSM = 153  # septets per part: 1120 bits less a 6-octet header, 7 bits each
SINGLE_UCS2 = 70
PART_UCS2 = 67
SMALL_CLUSTER = 30  # units; up to this the exact builder is plain greedy packing

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
_NON_BASIC = re.compile("[^" + re.escape(GSM_BASIC) + "]")
_EXTENSION = re.compile("[" + re.escape(GSM_EXTENSION) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _class(*names: str) -> str:
    parts = []
    for name in names:
        for first, last in RANGES[name]:
            parts.append(f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}")
    return "".join(parts)


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
# BMP joiners, the astral ones of emoji (flags, skin tones) and the rare astral planes
# (historic scripts, tags) where the others live: one compact class, a table plus 4 ranges.
_JOINING_OR_RARE = re.compile(
    _JOINERS_BMP.pattern[:-1]
    + "\\U00010000-\\U0001f0ff\\U0001f1e6-\\U0001f1ff\\U0001f3fb-\\U0001f3ff"
    + "\\U0001fb00-\\U0010ffff]"
)
_JOINERS_ASTRAL = frozenset(
    chr(code)
    for name in (*_JOINING, "E_Modifier")
    for first, last in RANGES[name]
    for code in range(max(first, 0x10000), last + 1)
)

# Python's regex engine tests a character class with astral ranges by scanning the range
# list; a BMP-only class is a constant-time table. So the fast splitter first replaces each
# astral character by two private-use characters, a head naming its break class and a
# tail: the text keeps its length in UTF-16 units, and every class stays in the BMP.
_TAIL = "\ue00f"
_HEADS = {
    "Other": "\ue000",
    "Extend": "\ue001",
    "SpacingMark": "\ue002",
    "Prepend": "\ue003",
    "Control": "\ue004",
    "Regional_Indicator": "\ue005",
    "E_Base": "\ue006",
    "E_Base_GAZ": "\ue007",
    "E_Modifier": "\ue008",
    "Glue_After_Zwj": "\ue009",
}
_PRIVATE = re.compile("[\ue000-\ue00f]")
_ASTRAL_STANDIN = {
    chr(code): _HEADS[name] + _TAIL
    for name in _HEADS
    if name != "Other"
    for first, last in RANGES[name]
    for code in range(max(first, 0x10000), last + 1)
}
_OTHER_STANDIN = _HEADS["Other"] + _TAIL


def _standin(match: re.Match[str]) -> str:
    return _ASTRAL_STANDIN.get(match[0], _OTHER_STANDIN)


def _exact(*names: str) -> str:
    return f"[{_class(*names)}]"


def _exact_not(*names: str) -> str:
    return f"[^{_class(*names)}]"


def _bmp_ranges(names: tuple[str, ...]) -> str:
    return "".join(
        f"\\U{first:08x}-\\U{min(last, 0xFFFF):08x}"
        for name in names
        for first, last in RANGES[name]
        if first <= 0xFFFF
    )


def _fast(*names: str) -> str:
    heads = "".join(_HEADS[n] for n in names if n in _HEADS)
    bmp = _bmp_ranges(names)
    alternatives = ([f"[{bmp}]"] if bmp else []) + ([f"[{heads}]{_TAIL}"] if heads else [])
    return "(?:" + "|".join(alternatives) + ")"


def _fast_not(*names: str) -> str:
    heads = "".join(h for n, h in _HEADS.items() if n not in names)
    return f"(?:[^{_bmp_ranges(names)}\\ue000-\\ue00f]|[{heads}]{_TAIL})"


def _cluster_pattern(one: Callable[..., str], not_one: Callable[..., str]) -> re.Pattern[str]:
    """UAX #29 (Unicode 10) extended grapheme clusters as the calculator's splitter finds them.

    CR and LF are always alone; a flag (RI RI) takes at most one extending mark; an emoji
    base takes its skin tone across at most one extending mark; GB11 glues a ZWJ to a
    following Glue_After_Zwj or E_Base_GAZ whatever precedes the ZWJ.
    """
    extend, emod, zwj = one("Extend"), one("E_Modifier"), one("ZWJ")
    glued = f"{zwj}(?:{one('Glue_After_Zwj')}|{one('E_Base_GAZ')}(?:{extend}?{emod})?)"
    mark = one("Extend", "ZWJ", "SpacingMark")
    ri = one("Regional_Indicator")
    hangul_l, hangul_v, hangul_t = one("L"), one("V"), one("T")
    return re.compile(
        f"{one('CR', 'LF', 'Control')}"
        f"|{ri}{ri}{mark}?"
        f"|{one('Prepend')}*"
        "(?:"
        f"{hangul_l}*(?:{hangul_v}+|{one('LV')}{hangul_v}*|{one('LVT')}){hangul_t}*"
        f"|{hangul_l}+|{hangul_t}+"
        f"|{one('E_Base', 'E_Base_GAZ')}(?:{extend}?{emod})?"
        f"|{glued}"
        f"|{not_one('CR', 'LF', 'Control')}"
        ")"
        f"(?:{glued}|{mark})*",
        re.DOTALL,
    )


_CLUSTER = _cluster_pattern(_exact, _exact_not)
_CLUSTER_FAST = _cluster_pattern(_fast, _fast_not)
# A run around joining characters (and stand-in tails): single other characters linked by
# joiners, with one other character on each side. Clusters never cross its ends.
_J = (
    "["
    + _bmp_ranges(("Extend", "ZWJ", "SpacingMark", "Prepend", "Regional_Indicator"))
    + _bmp_ranges(("L", "V", "T", "E_Modifier"))
    + "".join(_HEADS[n] for n in ("Extend", "SpacingMark", "Prepend", "Regional_Indicator"))
    + _HEADS["E_Modifier"]
    + _TAIL
    + "]"
)
_NOT_J = _J.replace("[", "[^", 1)
_REGION = re.compile(f"{_NOT_J}?{_J}+(?:{_NOT_J}{_J}+)*{_NOT_J}?", re.DOTALL)


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
    # One scan finds the first character outside the basic alphabet; extension characters,
    # non-GSM ones, joiners and astral ones all come at or after it.
    first = _NON_BASIC.search(text)
    if first is None:
        return (1 if n <= SINGLE_GSM else -(-n // PART_GSM), GSM7, n)
    at = first.start()
    if _NON_GSM.search(text, at) is None:
        return _gsm_with_extensions(text, n, len(_EXTENSION.findall(text, at)))
    return _ucs2(text, n, at)


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


def _ucs2(text: str, n: int, at: int) -> tuple[int, str, int]:
    if _JOINING_OR_RARE.search(text, at) is None:
        # Every code point is its own cluster: one UTF-16 unit, or a surrogate pair.
        raw = text.encode("utf-16-le", "surrogatepass")
        units = len(raw) >> 1
        if units <= SINGLE_UCS2:
            return (1, UCS2, n)
        parts, done = 0, 0
        while done < units:
            parts += 1
            limit = done + PART_UCS2
            if limit >= units:
                break
            # A surrogate pair across the boundary moves whole to the next part.
            split = 0xD8 <= raw[2 * limit - 1] <= 0xDB and 0xDC <= raw[2 * limit + 1] <= 0xDF
            done = limit - 1 if split else limit
        return (parts, UCS2, n)
    if _PRIVATE.search(text, at) is not None:
        # The text itself uses the stand-ins' private-use characters: the slow way.
        sizes = [len(c) + len(_ASTRAL.findall(c)) for c in _CLUSTER.findall(text)]
        return (_pack(sizes, SINGLE_UCS2, PART_UCS2), UCS2, len(sizes))
    # Before `at` every character is a basic GSM-7 one, a cluster of one unit; only the
    # last of them can join what follows. In the stand-in text of the rest one character
    # is one UTF-16 unit, and only the short regions around joining characters can hold
    # clusters longer than one unit: split just those.
    start = max(0, at - 1)
    rest = text[start:]
    standin = _ASTRAL.sub(_standin, rest) if _ASTRAL.search(rest) else rest
    units = start + len(standin)
    starts: list[int] = []
    ends: list[int] = []
    for region in _REGION.finditer(standin):
        position = start + region.start()
        for cluster in _CLUSTER_FAST.findall(region[0]):
            size = len(cluster)
            if size > 1:
                starts.append(position)
                ends.append(position + size)
            position += size
    characters = units - sum(ends) + sum(starts) + len(starts)
    if units <= SINGLE_UCS2:
        return (1, UCS2, characters)
    if any(e - s > SMALL_CLUSTER for s, e in zip(starts, ends, strict=True)):
        sizes = [1] * start + list(map(len, _CLUSTER_FAST.findall(standin)))
        return (_pack(sizes, SINGLE_UCS2, PART_UCS2), UCS2, characters)
    return (_pack_blocks(units, starts, ends, PART_UCS2), UCS2, characters)


def _pack_blocks(units: int, starts: list[int], ends: list[int], part: int) -> int:
    """Greedy parts of `part` units where the blocks [start, end) are never split."""
    segments, done = 0, 0
    while done < units:
        segments += 1
        limit = done + part
        if limit >= units:
            break
        i = bisect_right(starts, limit - 1) - 1  # the last block starting inside the part
        done = starts[i] if i >= 0 and ends[i] > limit else limit
    return segments


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
    totals = list(accumulate(sizes))
    if not totals or totals[-1] <= single:
        return 1
    if max(sizes) <= SMALL_CLUSTER:
        # Small clusters: the header's spill always fits the next part, so Twilio's
        # builder is plain greedy packing into parts; find each part's end by bisection.
        segments, done, total = 0, 0, totals[-1]
        while done < total:
            segments += 1
            done = totals[bisect_right(totals, done + part) - 1]
        return segments
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
