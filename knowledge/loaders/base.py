"""What every loader shares: the document types, the errors, text decoding (UTF-8 or
Shift_JIS) and grouping headed lines into sections."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.access import groups_of


class LoadError(Exception):
    """A file could not be read or parsed (corrupt, encrypted, wrong encoding...)."""


class EmptyDocument(LoadError):
    """A file that was read but holds no text (an empty sheet, a scanned PDF): reported as
    "empty", not as failed."""


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path."""

    headings: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Document:
    path: str  # relative to the indexed root, with forward slashes
    title: str
    sections: list[Section]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def confidential(self) -> bool:
        return self.metadata.get("confidential", "").lower() in {"true", "yes", "1"}

    @property
    def audience(self) -> tuple[str, ...]:
        """Front matter ``audience: [hr, managers]``: the groups that may read the document.
        Only a bracketed list names groups; free text (``audience: All employees``) describes
        the readers and restricts nothing."""
        raw = self.metadata.get("audience", "").strip()
        return groups_of(raw) if raw.startswith("[") and raw.endswith("]") else ()


Loaded = tuple[str, list[Section], dict[str, str]]  # title, sections, metadata
Loader = Callable[[Path], Loaded]


def read_text(path: Path) -> str:
    """A text file's content: UTF-8 (with or without BOM), else Japanese in Shift_JIS/CP932."""
    return decode_text(path.read_bytes())


def decode_text(raw: bytes) -> str:
    if b"\x00" in raw[:4096]:
        raise LoadError("binary data in a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        raise LoadError("not UTF-8 or Shift_JIS text") from None
    if not reads_as_japanese(text):  # cp932 decodes most byte soups into mojibake
        raise LoadError("not valid UTF-8, and not Japanese text in Shift_JIS either")
    return text


_HIRAGANA_CHAR = re.compile(r"[\u3041-\u309f]")
_HALFWIDTH_KANA = re.compile(r"[\uff61-\uff9f]")


def reads_as_japanese(text: str) -> bool:
    """Shift_JIS text is real Japanese when it has hiragana (every Japanese sentence does) and
    little half-width katakana (what stray bytes 0xA1-0xDF decode to)."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return True
    hiragana = sum(1 for c in wide if _HIRAGANA_CHAR.match(c))
    halfwidth = sum(1 for c in wide if _HALFWIDTH_KANA.match(c))
    return hiragana >= 0.05 * len(wide) and halfwidth <= 0.2 * len(wide)


def sections_from_headed_lines(lines: Iterable[tuple[int, str]]) -> list[Section]:
    """Group (level, line) pairs, level > 0 meaning a heading, into sections."""
    stack: list[str] = []
    body: list[str] = []
    out: list[Section] = []

    def flush() -> None:
        text = "\n".join(body).strip()
        if text:
            out.append(Section(tuple(stack), text))
        body.clear()

    for level, line in lines:
        if level:
            flush()
            del stack[level - 1 :]
            stack.extend([""] * (level - 1 - len(stack)))
            stack.append(line.strip())
        else:
            body.append(line)
    flush()
    return out
