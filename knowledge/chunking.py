"""Split documents into retrieval chunks that follow headings and paragraphs.

Chunks never cross a heading. Paragraphs are packed up to a size budget measured in "units": an
ASCII character is one unit, a CJK character two (it carries about as much meaning as a short
English word, and costs the SLM about a token). Chunk ids are derived from the content, so
indexing the same text twice is a no-op.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from knowledge.loaders import Document

_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=[.;:])\s+")
_WIDE = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]")


@dataclass(frozen=True)
class Chunk:
    id: str
    path: str
    title: str
    heading: str  # heading path, "A > B"
    text: str  # the passage itself
    ordinal: int  # position within the document

    @property
    def embed_text(self) -> str:
        """What gets embedded and lexically indexed: the passage with its context."""
        context = " > ".join(part for part in (self.title, self.heading) if part)
        return f"{context}\n{self.text}" if context else self.text

    @property
    def lexical_text(self) -> str:
        """What BM25 sees: the passage and its headings, not the document title, which every
        chunk of a document shares and would otherwise drown the passage's own terms."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


def units(text: str) -> int:
    return len(text) + len(_WIDE.findall(text))


def _split_long(paragraph: str, budget: int) -> list[str]:
    if units(paragraph) <= budget:
        return [paragraph]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        if not sentence:
            continue
        if current and units(current) + units(sentence) > budget:
            pieces.append(current.strip())
            current = ""
        while units(sentence) > budget:  # one endless sentence: cut it hard
            cut = max(1, budget // 2 if _WIDE.search(sentence) else budget)
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:]
        current += (
            sentence if not current else (" " + sentence if sentence[:1].isascii() else sentence)
        )
    if current.strip():
        pieces.append(current.strip())
    return [p for p in pieces if p]


def _paragraphs(text: str) -> list[str]:
    paras = [re.sub(r"[ \t]+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return [p for p in paras if p]


def _pack(paragraphs: list[str], budget: int) -> list[str]:
    packed: list[str] = []
    current: list[str] = []
    size = 0
    for para in paragraphs:
        for piece in _split_long(para, budget):
            if current and size + units(piece) > budget:
                packed.append("\n".join(current))
                current, size = [], 0
            current.append(piece)
            size += units(piece) + 1
    if current:
        tail = "\n".join(current)
        if packed and units(tail) < budget // 4:
            # a short remainder ("After the reset, also update...") is kept with what it
            # follows: alone it wins BM25's length normalisation while saying little
            packed[-1] = f"{packed[-1]}\n{tail}"
        else:
            packed.append(tail)
    return packed


def chunk_id(path: str, heading: str, text: str, occurrence: int) -> str:
    digest = hashlib.sha256(f"{path}\0{heading}\0{text}\0{occurrence}".encode()).hexdigest()
    return digest[:32]


def chunk_document(document: Document, budget: int = 700) -> list[Chunk]:
    """Chunks of about ``budget`` units at most (a short remainder of a section, under a quarter
    of the budget, joins the chunk before it), in document order."""
    chunks: list[Chunk] = []
    seen: dict[tuple[str, str], int] = {}
    for section in document.sections:
        headings = [h for h in section.headings if h]
        if headings and headings[0] == document.title:
            headings = headings[1:]  # the H1 is the title; it is stored once, as the title
        heading = " > ".join(headings)
        for text in _pack(_paragraphs(section.text), budget):
            key = (heading, text)
            seen[key] = seen.get(key, 0) + 1
            chunks.append(
                Chunk(
                    id=chunk_id(document.path, heading, text, seen[key]),
                    path=document.path,
                    title=document.title,
                    heading=heading,
                    text=text,
                    ordinal=len(chunks),
                )
            )
    return chunks
