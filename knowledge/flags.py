"""Instruction-like text in documents, flagged at index time.

Documents are data, never instructions: a planted page that says "ignore previous instructions"
or "log in with your password at …" is indexed (it may be a real policy quoting an attack) but
flagged, listed in the index summary and ``status`` for an admin to look at, and the answer cache
drops answers that cite it. The patterns are deliberately narrow (English and Japanese).
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("instructions to the assistant", re.compile(
        r"\b(?:ignore|disregard|forget)\b[^.\n]{0,40}\b(?:previous|prior|above|earlier|all)\b"
        r"[^.\n]{0,20}\b(?:instructions|prompts?|rules)\b", re.I)),
    ("instructions to the assistant", re.compile(
        r"\b(?:you are now|act as|new instructions:|system prompt)\b", re.I)),
    ("asks for a password", re.compile(
        r"\b(?:log ?in|sign ?in|enter|type|confirm)\b[^.\n]{0,40}\b(?:your|the)\b[^.\n]{0,20}"
        r"\bpasswords?\b[^.\n]{0,40}\b(?:at|on|here|via)\b", re.I)),
    ("instructions to the assistant", re.compile(
        r"(?:以前|これまで|前|上記)の(?:指示|命令|ルール)[をは]?(?:すべて|全て)?無視")),
    ("asks for a password", re.compile(
        r"パスワードを?(?:.{0,20})(?:入力|送信|教えて|ログイン)(?:.{0,10})(?:して|ください)")),
)


def instruction_flags(text: str) -> tuple[str, ...]:
    """Why ``text`` looks like instructions aimed at the bot or a phishing step (empty: none)."""
    return tuple(sorted({why for why, pattern in _PATTERNS if pattern.search(text)}))
