"""What a reply says: its text without the quoted history and the signature.

Mail programs quote the e-mail they answer under an attribution line ("On Tue, Dana
wrote:", "-----Original Message-----", Outlook's "From: … Sent: …" block) or as ">" lines,
and sign with "-- " or "Sent from my phone". The conversation shows what is new; the full
original is kept beside it. When nothing would be left, the full text is shown.
"""

import re
from html.parser import HTMLParser

ATTRIBUTION = [
    re.compile(r"^on\b.{0,400}\bwrote:?$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^le\b.{0,400}\ba écrit\s?:$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^am\b.{0,400}\bschrieb\b.{0,200}:$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^el\b.{0,400}\bescribió:?$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^-{2,}\s*(original message|forwarded message|reply message)\s*-{2,}$", re.I),
    re.compile(r"^_{10,}$"),
]
HEADER_BLOCK = re.compile(r"^\*?(from|von|de)\s*:\*?\s", re.IGNORECASE)
HEADER_FOLLOW = re.compile(r"^\*?(sent|date|to|subject|gesendet|envoyé)\s*:", re.IGNORECASE)
SIGNATURE = re.compile(r"^(-- ?|--|—|__)$")
MOBILE_SIGNATURE = re.compile(
    r"^(sent from my\b.{0,60}|sent from (outlook|mail|yahoo mail)\b.{0,60}"
    r"|get outlook for\b.{0,40})$",
    re.IGNORECASE,
)
MAX_SCAN_LINES = 5000


def _attribution_at(lines: list[str], i: int) -> bool:
    """Does an attribution start at line i (it may wrap over up to three lines)?"""
    for span in (1, 2, 3):
        joined = " ".join(line.strip() for line in lines[i : i + span])
        if any(p.match(joined) for p in ATTRIBUTION):
            return True
    return False


def _header_block_at(lines: list[str], i: int) -> bool:
    if not HEADER_BLOCK.match(lines[i].strip()):
        return False
    following = [line.strip() for line in lines[i + 1 : i + 5]]
    return any(HEADER_FOLLOW.match(line) for line in following)


def _quoted_rest(lines: list[str], i: int) -> bool:
    """Line i starts a quote that runs (blank lines aside) to the end."""
    if not lines[i].lstrip().startswith(">"):
        return False
    return all(not line.strip() or line.lstrip().startswith(">") for line in lines[i:])


def strip_reply(text: str) -> str:
    """The new part of a reply: quoted history and signature removed, or the full text."""
    full = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    lines = full.split("\n")
    cut = len(lines)
    for i in range(min(len(lines), MAX_SCAN_LINES)):
        if _attribution_at(lines, i) or _header_block_at(lines, i) or _quoted_rest(lines, i):
            cut = i
            break
    kept = lines[:cut]
    for i, line in enumerate(kept):
        if SIGNATURE.match(line.rstrip("\n")) and i > 0:
            kept = kept[:i]
            break
    while kept and (not kept[-1].strip() or MOBILE_SIGNATURE.match(kept[-1].strip())):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or full


BLOCK_TAGS = {
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
    "section", "article", "header", "footer", "hr", "pre",
}  # fmt: skip
SKIPPED_TAGS = {"script", "style", "head", "title", "template", "noscript"}
QUOTED = "\x01"  # marks text inside a quote until lines are known
QUOTE_CLASSES = {"gmail_quote", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote"}


class _TextExtractor(HTMLParser):
    """HTML to plain text; quoted parts (blockquote, Gmail's quote div) become ">" lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.quote = 0
        self.stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        is_quote = tag == "blockquote" or bool(classes & QUOTE_CLASSES)
        if tag not in ("br", "hr", "img", "meta", "link", "input"):
            self.stack.append((tag, is_quote))
        if tag in SKIPPED_TAGS:
            self.skip += 1
        if is_quote:
            self.quote += 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, was_quote = self.stack.pop()
            if open_tag in SKIPPED_TAGS:
                self.skip = max(0, self.skip - 1)
            if was_quote:
                self.quote = max(0, self.quote - 1)
            if open_tag == tag:
                break
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = re.sub(r"\s+", " ", data)
        self.parts.append(QUOTED + text if self.quote and text.strip() else text)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(html.replace(QUOTED, ""))
        parser.close()
    except (AssertionError, ValueError):  # pragma: no cover - HTMLParser is lenient
        pass
    lines = []
    for line in "".join(parser.parts).split("\n"):
        clean = line.replace(QUOTED, "").strip()
        lines.append(f"> {clean}" if QUOTED in line and clean else clean)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
