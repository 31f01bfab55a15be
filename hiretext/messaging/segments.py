"""How many SMS segments a text costs, counted exactly as Twilio's segment calculator does.

Rules (DESIGN: Sending): a text made only of GSM-7 characters fits 160 septets in one
segment, 153 per part once split; the extension characters (``^{}\\[~]|€`` and form feed)
take two septets and an escape pair is never split. Any other character makes the whole
text UCS-2: 70 code units in one segment, 67 per part; a surrogate pair is never split.
Like Twilio's calculator, a grapheme cluster (an emoji with its skin tone, a flag, a
letter with its combining accent) is never split either, and "characters" counts septets
for GSM-7 and grapheme clusters for UCS-2.

Hot path: this runs for every keystroke preview and every send. Whole-text work is done
in C, and as little of it as can be: GSM-7 text becomes one byte per character (encode,
bytes.translate) and is packed on the bytes; other text is scanned once by a regex for
the characters that can join a cluster, whose matches are the clusters of more than one
code point; Python only looks at the two or three part boundaries of a long text.
"""

import codecs
import re
from bisect import bisect_right
from functools import cache
from itertools import accumulate
from typing import NamedTuple

from hiretext.messaging.unicode10 import RANGES

GSM7 = "GSM-7"
UCS2 = "UCS-2"

SINGLE_GSM = 160  # septets in an unsplit GSM-7 message
PART_GSM = 153  # septets per part: 1120 bits less a 6-octet header, 7 bits each
SINGLE_UCS2 = 70
PART_UCS2 = 67
SMALL_CLUSTER = 30  # units; up to this Twilio's segment builder is plain greedy packing

# The GSM 03.38 default alphabet as Twilio maps it (its table has no backtick, no ç).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"
GSM_CHARS = frozenset(GSM_BASIC + GSM_EXTENSION)

# A GSM-7 text as bytes, one per character, so that it is counted with bytes operations:
# _BASIC (0x01) for a basic character, _ESCAPE (0x1B) for an extension character (two
# septets: the escape, then the character), and for ASCII, 0x00 for a character that is
# not GSM-7 (a backtick, a control character).
_BASIC, _ESCAPE = 0x01, 0x1B
_ASCII_KINDS = bytes(
    _BASIC if chr(b) in GSM_BASIC else _ESCAPE if chr(b) in GSM_EXTENSION else 0x00
    for b in range(128)
).ljust(256, b"\0")
# Other GSM-7 text is Latin-1 but for € and the Greek capitals: € is written as ESC (not
# GSM-7 itself) and the Greek capitals as "?" (basic, as they are) first.
_LATIN1_KINDS = bytes(
    _ESCAPE if chr(b) in GSM_EXTENSION or b == 0x1B else _BASIC if chr(b) in GSM_BASIC else 0x00
    for b in range(256)
)
_NON_GSM = re.compile("[^" + re.escape(GSM_BASIC + GSM_EXTENSION) + "]")

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")

_Spans = tuple[tuple[int, int], ...]  # code point ranges, first and last included
_ALL: _Spans = ((0, 0x10FFFF),)
_BMP: _Spans = ((0, 0xFFFF),)
# Where everyday text lives: the BMP, and U+1F000–1FFFF, which holds the emoji and, of the
# break classes, only Regional_Indicator, E_Base, E_Modifier, Glue_After_Zwj, E_Base_GAZ.
_EVERYDAY: _Spans = ((0, 0xFFFF), (0x1F000, 0x1FFFF))


def _merged(codes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Code point ranges, sorted, overlapping and adjacent ones merged."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(codes):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


def _codes(names: tuple[str, ...], spans: _Spans = _ALL) -> list[tuple[int, int]]:
    """The code points of these break classes inside `spans`, as merged ranges."""
    return _merged(
        [
            (max(first, low), min(last, high))
            for name in names
            for first, last in RANGES[name]
            for low, high in spans
            if max(first, low) <= min(last, high)
        ]
    )


def _class(codes: list[tuple[int, int]]) -> str:
    """Ranges as the inside of a regex []."""
    return "".join(
        f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}"
        for first, last in codes
    )


def _others(codes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The code points not in these merged ranges."""
    starts = [0] + [last + 1 for _, last in codes]
    ends = [first - 1 for first, _ in codes] + [0x10FFFF]
    return [(first, last) for first, last in zip(starts, ends, strict=True) if first <= last]


def _ranges(names: tuple[str, ...], spans: _Spans = _ALL) -> str:
    """The code points of these break classes inside `spans`, as the inside of a []."""
    return _class(_codes(names, spans))


# J: characters that may join a neighbour into one cluster, and some more. Between two
# characters outside J there is always a cluster break, so a cluster of more than one code
# point has its first or second character in J. J holds the joining classes of the BMP,
# lone surrogates, and the astral planes but for U+1F400–DFFFF and U+E1000–10FFFF (most
# emoji, CJK extensions: no joining class there). The regex engine scans for J fastest
# written as "not one of the others": most characters then fail at the first test.
_J_CODES = _merged(
    _codes(("Extend", "ZWJ", "SpacingMark", "Prepend", "L", "V", "T"), _BMP)
    + [(0xD800, 0xDFFF), (0x10000, 0x1F3FF), (0xE0000, 0xE0FFF)]
)
_J = f"[^{_class(_others(_J_CODES))}]"
# Characters that take the exact, slower, way: those whose break class is only known from
# the full tables (lone surrogates, historic scripts, tags: a hundred ranges, slow to
# test), and the rare joiners Prepend and the Hangul jamo L, V, T (modern Korean is
# written in precomposed syllables).
_RARE = re.compile(
    f"[{_ranges(('Prepend', 'L', 'V', 'T'), _BMP)}"
    "\\ud800-\\udfff\\U00010000-\\U0001efff\\U000e0000-\\U000e0fff]"
)
_OUTSIDE_J_TWICE = re.compile(f"[{_class(_others(_J_CODES))}]{{2}}")
# Per block of 256 code points (a UTF-16 code unit's high byte): 1 if it holds surrogates
# or J characters. Most text is in blocks without any (ASCII, CJK ideographs…).
_BLOCK_NEAR_JOIN = bytes(
    1 if any(first >> 8 <= block <= last >> 8 for first, last in _J_CODES) else 0
    for block in range(256)
)


_BY_LOW_HALF = 2


def _joins_backward() -> bytes:
    """Per UTF-16 code unit that starts a character: 1 if the character joins the one before
    (Extend, ZWJ, SpacingMark); _BY_LOW_HALF for U+D83C, the high half of the regional
    indicators and skin tones (U+1F1E6–1F1FF, 1F3FB–1F3FF). Rare characters are left out:
    a text with one is counted the exact way."""
    table = bytearray(0x10000)
    for first, last in _codes(("Extend", "ZWJ", "SpacingMark"), _BMP):
        table[first : last + 1] = bytes((1,)) * (last - first + 1)
    table[0xD83C] = _BY_LOW_HALF
    return bytes(table)


_JOINS_BACKWARD = _joins_backward()


class _Classes:
    """Pieces of the cluster patterns, with the code points inside `spans` classified."""

    def __init__(self, spans: _Spans) -> None:
        self.spans = spans
        self.extend, self.emod, self.zwj = self.of("Extend"), self.of("E_Modifier"), self.of("ZWJ")
        self.ri, self.base = self.of("Regional_Indicator"), self.of("E_Base", "E_Base_GAZ")
        self.mark = self.of("Extend", "ZWJ", "SpacingMark")
        # What a ZWJ glues (GB11), and the marks and glued ZWJs that end every cluster.
        glue_after_zwj, base_gaz = self.of("Glue_After_Zwj"), self.of("E_Base_GAZ")
        self.glue = f"{glue_after_zwj}|{base_gaz}(?:{self.extend}?{self.emod})?"
        self.tail = f"(?:{self.zwj}(?:{self.glue})|{self.mark})*"

    def of(self, *names: str) -> str:
        return f"[{_ranges(names, self.spans)}]"


def _cluster_pattern() -> str:
    """UAX #29 (Unicode 10) extended grapheme clusters as the calculator's splitter finds them.

    CR and LF are always alone; a flag (RI RI) takes at most one extending mark; an emoji
    base takes its skin tone across at most one extending mark; GB11 glues a ZWJ to a
    following Glue_After_Zwj or E_Base_GAZ whatever precedes the ZWJ.
    """
    c = _Classes(_ALL)
    hangul_l, hangul_v, hangul_t = c.of("L"), c.of("V"), c.of("T")
    return (
        f"{c.of('CR', 'LF', 'Control')}|{c.ri}{c.ri}{c.mark}?|{c.of('Prepend')}*"
        f"(?:{hangul_l}*(?:{hangul_v}+|{c.of('LV')}{hangul_v}*|{c.of('LVT')}){hangul_t}*"
        f"|{hangul_l}+|{hangul_t}+|{c.base}(?:{c.extend}?{c.emod})?|{c.zwj}(?:{c.glue})"
        f"|[^{_ranges(('CR', 'LF', 'Control'))}]){c.tail}"
    )


def _joined_pattern() -> str:
    """Each cluster longer than one code point, found from its first J character.

    The match, group 1, starts at the cluster's first J character and goes on as
    `_cluster_pattern` does from that character's class. Group 2 is the character before
    it when that one is in the same cluster: then it is outside J and in no earlier match
    (a match ending there would have taken the J character too), so it starts the cluster.
    A J character that is a cluster of its own is a match as well. So a cluster adds
    len(group 1) - 1 + len(group 2) characters after its first. Rare characters (see
    `_RARE`) are not classified: a text with one is counted the exact way.
    """
    c = _Classes(_EVERYDAY)
    joins_marks = _others(_merged(_codes(("CR", "LF", "Control"), _EVERYDAY) + _J_CODES))
    lead = f"[{_class(joins_marks)}]{c.mark}|{c.base}{c.emod}"
    # After the J character, by its class: a second regional indicator ends a flag (and
    # the cluster, but for one mark); an Extend after an emoji base may take a skin tone;
    # a ZWJ glues; an emoji base takes a skin tone. Then the tail.
    mark_or_emod = c.of("Extend", "E_Modifier", "SpacingMark")
    goes_on = (
        f"(?<={c.ri}){c.ri}{c.mark}?"
        f"|(?:(?<={mark_or_emod})(?:(?<={c.base}{c.extend}){c.emod})?|(?<={c.zwj})(?:{c.glue})?"
        f"|(?<={c.base})(?:{c.extend}?{c.emod})?|){c.tail}"
    )
    return f"({_J}(?:(?<=(?={lead})(.).)|)(?:{goes_on}))"


@cache
def _exact_clusters() -> re.Pattern[str]:
    """Clusters of any text (compiled on first use: rare texts only)."""
    return re.compile(_cluster_pattern(), re.DOTALL)


_JOINED_CLUSTER = re.compile(_joined_pattern(), re.DOTALL)


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
    # "€" counts as any extension character does, so a text that is ASCII but for it is
    # counted as ASCII with "^" in its place (bytes operations, no regex).
    plain = text if text.isascii() else text.replace("€", "^")
    if plain.isascii():
        kinds = plain.encode().translate(_ASCII_KINDS)
        if 0 in kinds:
            # ASCII but not GSM-7 (a backtick, a control character): one unit per character.
            return (1 if n <= SINGLE_UCS2 else -(-n // PART_UCS2), UCS2, n)
        if _ESCAPE not in kinds:
            return (1 if n <= SINGLE_GSM else -(-n // PART_GSM), GSM7, n)
        return _gsm(kinds, n)
    raw = codecs.utf_16_le_encode(text, "surrogatepass")[0]
    units = len(raw) >> 1
    if units > n:
        # A character above the BMP (an emoji): UCS-2, and the scan for J starts anywhere.
        return _ucs2(text, n, 0, raw, units)
    non_gsm = _NON_GSM.search(text)
    if non_gsm is None:
        latin1 = codecs.latin_1_encode(text.replace("€", "\x1b"), "replace")[0]
        return _gsm(latin1.translate(_LATIN1_KINDS), n)
    at = non_gsm.start()
    if (
        text[at] < "\u0100"
        and text[-1] < "\u0100"
        and len(codecs.latin_1_encode(text, "ignore")[0]) == n
    ):
        # Latin-1 only (ç, â…): no joining character, one unit each.
        return (1 if n <= SINGLE_UCS2 else -(-n // PART_UCS2), UCS2, n)
    return _ucs2(text, n, at, raw, units)


def segment_count(text: str) -> int:
    """Just the number of segments (what a send costs)."""
    return count(text)[0]


def _gsm(kinds: bytes, n: int) -> tuple[int, str, int]:
    """`kinds`: the text as _BASIC and _ESCAPE bytes, one per character."""
    septets = n + kinds.count(_ESCAPE)
    if septets <= SINGLE_GSM:
        return (1, GSM7, septets)
    # The septets themselves, each extension character as its escape then a second septet:
    # a part that would end on an escape leaves it to the next part.
    septet_kinds = kinds.replace(b"\x1b", b"\x1b\x01")
    parts, start = 0, 0
    while True:
        parts += 1
        end = start + PART_GSM
        if end >= septets:
            return (parts, GSM7, septets)
        start = end - 1 if septet_kinds[end - 1] == _ESCAPE else end


def _ucs2(text: str, n: int, at: int, raw: bytes, units: int) -> tuple[int, str, int]:
    """`at`: no character before it is in J; `raw`: the text in UTF-16 (`units` long)."""
    found = _JOINED_CLUSTER.findall(text, at)
    if not found:
        # Every code point is its own cluster: one UTF-16 unit, or a surrogate pair.
        if units <= SINGLE_UCS2:
            return (1, UCS2, n)
        if units == n:
            return (-(-n // PART_UCS2), UCS2, n)
        return (_pack_units(raw, units, None), UCS2, n)
    joined = "".join([cluster + before for cluster, before in found])
    if _RARE.search(joined):
        return _ucs2_exact(text)
    characters = n - len(joined) + len(found)
    if units <= SINGLE_UCS2:
        return (1, UCS2, characters)
    if 2 * (len(joined) - len(found)) >= SMALL_CLUSTER and (
        2 * max(map(len, map("".join, found))) > SMALL_CLUSTER
    ):
        # Maybe a cluster of more than `SMALL_CLUSTER` units: Twilio's builder, exactly.
        return (_ucs2_exact(text)[0], UCS2, characters)
    return (_pack_units(raw, units, text), UCS2, characters)


def _ucs2_exact(text: str) -> tuple[int, str, int]:
    """Every cluster with the exact classes, packed as Twilio's builder does."""
    sizes = [len(c) + len(_ASTRAL.findall(c)) for c in _exact_clusters().findall(text)]
    return (_pack(sizes, SINGLE_UCS2, PART_UCS2), UCS2, len(sizes))


def _pack_units(raw: bytes, units: int, text: str | None) -> int:
    """Parts of 67 UTF-16 units (`raw`, little-endian), a surrogate pair never split, nor
    (given `text`) a cluster of at most `SMALL_CLUSTER` units.

    Only a boundary next to a surrogate pair or a J character can split something.
    """
    parts, done = 0, 0
    while True:
        parts += 1
        limit = done + PART_UCS2
        if limit >= units:
            return parts
        i = 2 * limit
        # Most often neither code unit is near either (told by their high bytes).
        if not (_BLOCK_NEAR_JOIN[raw[i - 1]] or _BLOCK_NEAR_JOIN[raw[i + 1]]):
            done = limit
            continue
        before = raw[i - 2] | raw[i - 1] << 8
        if 0xD800 <= before <= 0xDBFF:
            # The surrogate pair across the boundary moves whole to the next part.
            limit, i = limit - 1, i - 2
            before = raw[i - 2] | raw[i - 1] << 8
        if text is not None:
            # A cluster goes on across the boundary only if the character after it joins
            # backward (a mark, a skin tone, a regional indicator after another: by its
            # first code unit, then its second) or a ZWJ before it glues.
            joins = _JOINS_BACKWARD[raw[i] | raw[i + 1] << 8]
            if joins == _BY_LOW_HALF:
                low = raw[i + 2] | raw[i + 3] << 8
                joins = low >= 0xDFFB or 0xDDE6 <= low <= 0xDDFF and 0xDDE6 <= before <= 0xDDFF
            if joins or before == 0x200D:
                at = len(codecs.utf_16_le_decode(raw[:i], "surrogatepass")[0])
                limit -= _units_back(text, at)
        done = limit


def _units_back(text: str, at: int) -> int:
    """UTF-16 units before code point `at` of the cluster that goes on across it (or 0)."""
    # The last sure break before `at`: between two characters outside J (or the start).
    sure = _OUTSIDE_J_TWICE.search(text[at - 1 :: -1])
    start = at - 1 - sure.start() if sure else 0
    # From there on, clusters are found as in the whole text.
    for joined in _JOINED_CLUSTER.finditer(text, start):
        first = joined.start() - len(joined[2] or "")
        if first >= at:
            return 0
        if joined.end() > at:
            return len(codecs.utf_16_le_encode(text[first:at], "surrogatepass")[0]) >> 1
    return 0


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
