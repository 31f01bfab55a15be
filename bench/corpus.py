"""A deterministic mixed corpus of SMS bodies, the shapes recruiters and candidates send.

Short and long GSM-7 text, GSM-7 with extension characters (two septets each, never split),
accented text outside GSM-7, emoji with skin tones, flags and ZWJ families (grapheme
clusters, never split), CJK, combining accents, and texts right at the part boundaries.
"""

from __future__ import annotations

import random

WORDS = [
    "hi",
    "thanks",
    "interview",
    "tomorrow",
    "role",
    "position",
    "salary",
    "benefits",
    "schedule",
    "available",
    "call",
    "resume",
    "offer",
    "start",
    "date",
    "remote",
    "hybrid",
    "office",
    "team",
    "manager",
    "recruiter",
    "great",
    "please",
    "confirm",
    "Monday",
    "Tuesday",
    "Friday",
    "9am",
    "2:30pm",
    "address",
    "parking",
    "dress",
    "code",
    "questions",
]
GSM_EXT = "^{}\\[~]|€"
ACCENTED = "çâêîôûëïüÿœáíóúãõ"  # outside GSM-7 (some lowercase accents are in it)
EMOJI = ["👍", "😀", "🎉", "🙏", "📅", "✅", "💼", "🚀", "😊", "👋"]
SKIN = ["🏻", "🏼", "🏽", "🏾", "🏿"]
FLAGS = ["🇺🇸", "🇫🇷", "🇯🇵", "🇧🇷", "🇮🇳", "🇩🇪"]
ZWJ = ["👨‍👩‍👧‍👦", "👩‍💻", "🧑‍🚀", "🏳️‍🌈", "👁️‍🗨️"]
CJK = "面接の日程を確認してください。ありがとうございます。明日は大丈夫です。"
COMBINING = ["e\u0301", "a\u0300", "n\u0303", "o\u0308", "u\u0302"]


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _sprinkle(rng: random.Random, text: str, items: list[str], k: int) -> str:
    chars = list(text)
    for _ in range(k):
        chars.insert(rng.randrange(len(chars) + 1), rng.choice(items))
    return "".join(chars)


def message(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.35:  # a short plain reply
        return _words(rng, rng.randint(2, 25)).capitalize() + rng.choice([".", "!", "?", ""])
    if shape < 0.50:  # a long GSM-7 message: two to four parts, as recruiters write them
        return _words(rng, rng.randint(30, 75))
    if shape < 0.58:  # GSM-7 with extension characters, some across part boundaries
        return _sprinkle(rng, _words(rng, rng.randint(10, 90)), list(GSM_EXT), rng.randint(1, 12))
    if shape < 0.66:  # accented text: UCS-2
        base = _words(rng, rng.randint(5, 60))
        return _sprinkle(rng, base, list(ACCENTED), rng.randint(1, 6))
    if shape < 0.80:  # emoji, with skin tones, flags and ZWJ sequences
        items = EMOJI + [e + s for e in ("👍", "👋", "🙏") for s in SKIN] + FLAGS + ZWJ
        return _sprinkle(rng, _words(rng, rng.randint(3, 50)), items, rng.randint(1, 8))
    if shape < 0.86:  # CJK
        return "".join(rng.choice(CJK) for _ in range(rng.randint(10, 200)))
    if shape < 0.90:  # combining accents
        return _sprinkle(rng, _words(rng, rng.randint(5, 40)), COMBINING, rng.randint(1, 5))
    if shape < 0.96:  # right at a boundary: 160/161, 306/307 septets; 70/71, 134/135 units
        n = rng.choice([159, 160, 161, 305, 306, 307, 459, 460, 461])
        text = (_words(rng, 120) * 2)[:n]
        if rng.random() < 0.5:
            return text[: n - 2] + rng.choice(GSM_EXT)
        return text
    n = rng.choice([69, 70, 71, 133, 134, 135, 201, 202])  # UCS-2 at its boundaries
    text = ("ç" + _words(rng, 60))[: n - 1]
    return text + rng.choice(["😀", "a", "🇫🇷"])


def corpus(count: int, seed: int = 2026) -> list[str]:
    rng = random.Random(seed)
    return [message(rng) for _ in range(count)]
