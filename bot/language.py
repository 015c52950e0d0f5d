"""Which language a message is in: the core answers in English or Japanese."""

from __future__ import annotations

import re

from bot.types import Language

_JA = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def detect_language(text: str) -> Language:
    """Japanese when the text has kana or kanji, English otherwise."""
    return "ja" if _JA.search(text) else "en"
