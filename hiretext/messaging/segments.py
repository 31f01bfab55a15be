"""How many SMS segments a text costs, counted exactly as Twilio's segment calculator does.

Rules (DESIGN: Sending): a text made only of GSM-7 characters fits 160 septets in one
segment, 153 per part once split; the extension characters (``^{}\\[~]|€`` and form feed)
take two septets and an escape pair is never split. Any other character makes the whole
text UCS-2: 70 code units in one segment, 67 per part; a surrogate pair is never split.
Like Twilio's calculator, a grapheme cluster (an emoji with its skin tone, a flag, a
letter with its combining accent) is never split either, and "characters" counts septets
for GSM-7 and grapheme clusters for UCS-2.

Hot path: this runs for every keystroke preview and every send, so whole-text work is
done by C code (encodings, bytes.translate, one regex scan per question) and Python only
looks at what matters: the short runs around joining characters, and the two or three
part boundaries of a long text.
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
# BASIC (0x01) for a basic character, ESCAPE (0x1B) for an extension character (two
# septets: the escape, then the character), and for ASCII, 0x00 for a character that is
# not GSM-7 (a backtick, a control character).
BASIC, ESCAPE = 0x01, 0x1B
_ASCII_KINDS = bytes(
    BASIC if chr(b) in GSM_BASIC else ESCAPE if chr(b) in GSM_EXTENSION else 0x00
    for b in range(128)
) + bytes(128)
# Other GSM-7 text goes through a code page of its own (starting with NUL, as C's fast
# charmap encoder wants), then to the same kinds.
_GSM_CODE_PAGE = "\0" + "".join(sorted(GSM_CHARS))
_GSM_ENCODING = codecs.charmap_build(_GSM_CODE_PAGE.ljust(256, "\ufffe"))
_GSM_KINDS = bytes(
    BASIC if c in GSM_BASIC else ESCAPE if c in GSM_EXTENSION else 0x00 for c in _GSM_CODE_PAGE
).ljust(256, b"\0")
_NON_GSM = re.compile("[^" + re.escape(GSM_BASIC + GSM_EXTENSION) + "]")

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")

_ALL = ((0, 0x10FFFF),)
# Where everyday text lives: the BMP, and U+1F000–1FFFF, which holds the emoji and, of the
# break classes, only Regional_Indicator, E_Base, E_Modifier, Glue_After_Zwj, E_Base_GAZ.
_EVERYDAY = ((0, 0xFFFF), (0x1F000, 0x1FFFF))


def _ranges(names: tuple[str, ...], spans: tuple[tuple[int, int], ...] = _ALL) -> str:
    """The code points of these break classes inside `spans`, as ranges for a []."""
    codes = sorted(
        (max(first, low), min(last, high))
        for name in names
        for first, last in RANGES[name]
        for low, high in spans
        if max(first, low) <= min(last, high)
    )
    merged: list[tuple[int, int]] = []
    for first, last in codes:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return "".join(
        f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}"
        for first, last in merged
    )


# J: characters that may join a neighbour into one cluster, and some more. Between two
# characters outside J there is always a cluster break, so a cluster of more than one code
# point has its first or second character in J. J holds the joining classes of the BMP,
# lone surrogates, and the astral planes but for U+1F400–DFFFF and U+E1000–10FFFF (most
# emoji, CJK extensions: no joining class there): a class with two astral ranges is quick
# to scan for.
_J = (
    _ranges(("Extend", "ZWJ", "SpacingMark", "Prepend", "L", "V", "T"), ((0, 0xFFFF),))
    + "\\ud800-\\udfff\\U00010000-\\U0001f3ff\\U000e0000-\\U000e0fff"
)
# Characters that take the exact, slower, way: those whose break class is only known from
# the full tables (lone surrogates, historic scripts, tags: a hundred ranges, slow to
# test), and the rare joiners Prepend and the Hangul jamo L, V, T (modern Korean is
# written in precomposed syllables).
_RARE = re.compile(
    f"[{_ranges(('Prepend', 'L', 'V', 'T'), ((0, 0xFFFF),))}"
    "\\ud800-\\udfff\\U00010000-\\U0001efff\\U000e0000-\\U000e0fff]"
)
# At position i: is character i or i + 1 in J (can a cluster go on after character i)?
_JOINED = re.compile(f"[{_J}]|.[{_J}]", re.DOTALL)
# Per block of 256 code points (a UTF-16 code unit's high byte): 1 if it holds surrogates
# or J characters. Most text is in blocks without any (ASCII, CJK ideographs…).
_BLOCK_NEAR_JOIN = bytes(
    1 if re.search(f"[{_J}]", "".join(map(chr, range(block << 8, (block + 1) << 8)))) else 0
    for block in range(256)
)


class _Classes:
    """Pieces of the cluster patterns, with the code points inside `spans` classified."""

    def __init__(self, spans: tuple[tuple[int, int], ...]) -> None:
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
    lead = f"[^{_ranges(('CR', 'LF', 'Control'), _EVERYDAY)}{_J}]{c.mark}|{c.base}{c.emod}"
    # After the J character, by its class: a second regional indicator ends a flag (and
    # the cluster, but for one mark); an Extend after an emoji base may take a skin tone;
    # a ZWJ glues; an emoji base takes a skin tone. Then the tail.
    mark_or_emod = c.of("Extend", "E_Modifier", "SpacingMark")
    goes_on = (
        f"(?<={c.ri}){c.ri}{c.mark}?"
        f"|(?:(?<={mark_or_emod})(?:(?<={c.base}{c.extend}){c.emod})?|(?<={c.zwj})(?:{c.glue})?"
        f"|(?<={c.base})(?:{c.extend}?{c.emod})?|){c.tail}"
    )
    return f"([{_J}](?:(?<=(?={lead})(.).)|)(?:{goes_on}))"


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
    if text.isascii():
        kinds = text.encode().translate(_ASCII_KINDS)
        if 0 in kinds:
            # ASCII but not GSM-7 (a backtick, a control character): one unit per character.
            return (1 if n <= SINGLE_UCS2 else -(-n // PART_UCS2), UCS2, n)
        if ESCAPE not in kinds:
            return (1 if n <= SINGLE_GSM else -(-n // PART_GSM), GSM7, n)
        return _gsm(kinds, n)
    non_gsm = _NON_GSM.search(text)
    if non_gsm is None:
        return _gsm(
            codecs.charmap_encode(text, "strict", _GSM_ENCODING)[0].translate(_GSM_KINDS), n
        )
    return _ucs2(text, n, non_gsm.start())


def segment_count(text: str) -> int:
    """Just the number of segments (what a send costs)."""
    return count(text)[0]


def _gsm(kinds: bytes, n: int) -> tuple[int, str, int]:
    """`kinds`: the text as BASIC and ESCAPE bytes, one per character."""
    septets = n + kinds.count(ESCAPE)
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
        start = end - 1 if septet_kinds[end - 1] == ESCAPE else end


def _ucs2(text: str, n: int, at: int) -> tuple[int, str, int]:
    """`at`: the first character outside GSM-7; the ones before are not in J."""
    if text[at] < "\u0100" and len(codecs.latin_1_encode(text, "ignore")[0]) == n:
        # Latin-1 (ç, â, “…” are not): no joining character, one unit each.
        return (1 if n <= SINGLE_UCS2 else -(-n // PART_UCS2), UCS2, n)
    raw = codecs.utf_16_le_encode(text, "surrogatepass")[0]
    units = len(raw) >> 1
    found = _JOINED_CLUSTER.findall(text, at)
    if not found:
        # Every code point is its own cluster: one UTF-16 unit, or a surrogate pair.
        if units <= SINGLE_UCS2:
            return (1, UCS2, n)
        if units == n:
            return (-(-n // PART_UCS2), UCS2, n)
        return (_pack_units(raw, units, None), UCS2, n)
    joined = "".join(map("".join, found))
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

    Only a boundary next to a surrogate or a J character can split something: there, find
    the code point at the boundary, and if it is next to a J character, split the clusters
    from the last sure break before it.
    """
    parts, done = 0, 0
    while True:
        parts += 1
        limit = done + PART_UCS2
        if limit >= units:
            return parts
        high_before, high_after = raw[2 * limit - 1], raw[2 * limit + 1]
        if _BLOCK_NEAR_JOIN[high_before] or _BLOCK_NEAR_JOIN[high_after]:
            if 0xD8 <= high_before <= 0xDB and 0xDC <= high_after <= 0xDF:
                limit -= 1  # the surrogate pair moves whole to the next part
            if text is not None:
                at = len(codecs.utf_16_le_decode(raw[: 2 * limit], "surrogatepass")[0])
                if _JOINED.match(text, at - 1):
                    limit -= _units_back(text, at)
        done = limit


def _units_back(text: str, at: int) -> int:
    """UTF-16 units before code point `at` of the cluster that goes on across it (or 0)."""
    start = at - 1
    while start > 0 and _JOINED.match(text, start - 1):
        start -= 1
    # From a sure break on, clusters are found as in the whole text.
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
