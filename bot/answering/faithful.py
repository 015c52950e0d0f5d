"""Faithful answer text: the model's short lead, checked against the cited passage, and the
passage's own lines quoted verbatim under it.

A 0.5B model's sentence is a pointer, not the evidence: what the user can rely on is the excerpt
(the steps, the figure, the deadline, as the document says them), quoted as Markdown lines
``> …`` ending ``> — <document title>``. The lead is kept only when it adds something to the
question (not an echo), carries nothing from the fixed prompt's worked examples, and its new
terms are found in the cited passage; otherwise the answer is not covered, and the reply says so
with the closest passage instead (:func:`declined_text`).

Across languages (a Japanese lead over an English passage) words cannot be matched, so only the
lead's figures and Latin-script names are checked there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering.prompt import EXAMPLE_TERMS, split_pieces, strip_citations
from bot.types import Language
from knowledge.lexical import content_terms

MIN_SUPPORT = 0.5  # share of the lead's new terms the cited passage must have
EXCERPT_LINES = 3
EXCERPT_CHARS = 420
CLOSEST = {"en": "The closest passage I found:", "ja": "最も近い資料の箇所:"}

_FIGURE = re.compile(r"\d+(?:[.,:]\d+)*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_LETTER = re.compile(r"[A-Za-z\u3040-\u30ff\u3400-\u9fff]")
_POLAR = re.compile(r"\s*(?:yes|no)\b|\s*(?:はい|いいえ)", re.I)
_URL = re.compile(r"https?://[^\s<>()\[\]`'\"、。「」*]+")


@dataclass(frozen=True)
class Verdict:
    """What the lead adds and whether the cited passage backs it."""

    reason: str | None  # "slm-echo", "example-leak", "unsupported", or None: keep it
    new: tuple[str, ...]  # the lead's terms (and figures) that the question does not have
    supported: tuple[str, ...]  # those found in the cited passage
    checked: int  # how many of ``new`` could be checked (all, or figures/Latin across languages)

    def figures(self) -> dict[str, float]:
        share = len(self.supported) / self.checked if self.checked else 1.0
        return {"supported": float(len(self.supported)), "supported_share": round(share, 4),
                "slm_echo": float(self.reason == "slm-echo"),
                "example_leak": float(self.reason == "example-leak"),
                "unsupported": float(self.reason == "unsupported")}


def mostly_japanese(text: str) -> bool:
    letters = _LETTER.findall(text)
    return bool(letters) and sum(bool(_CJK.match(c)) for c in letters) / len(letters) > 0.3


def figures_in(text: str) -> set[str]:
    return set(_FIGURE.findall(unicodedata.normalize("NFKC", text)))


# English function words the retrieval stopwords keep (they carry no claim a passage could back):
# a passage says "is never reimbursed" where the lead says "you cannot expense it"
_FUNCTION = frozenset([
    "about", "after", "again", "all", "also", "any", "before", "both", "can", "cannot",
    "could", "each", "every", "here", "just", "may", "might", "more", "most", "must", "need",
    "never", "no", "not", "now", "once", "only", "other", "over", "same", "shall", "should",
    "some", "such", "up", "very", "will", "would", "yes", "until", "within", "without",
    "while", "yet",
])


def terms_of(text: str) -> set[str]:
    """Content terms plus figures ("4", "15"): a made-up number is the worst wrong answer."""
    plain = strip_citations(text)
    words = {t for t in content_terms(plain) - _FUNCTION if "'" not in t}  # you're, don't
    return words | figures_in(plain)


def judge(lead: str, question: str, cited: str, shown: Sequence[str]) -> Verdict:
    """Echo, leak or support of ``lead`` against the question, the cited passage (its title,
    heading and section) and every passage the model was shown."""
    polar = _POLAR.match(lead)
    said = terms_of(lead[polar.end():] if polar else lead)
    asked = terms_of(question)
    new = said - asked
    everything = set().union(asked, *(terms_of(p) for p in shown), terms_of(cited))
    if said & (EXAMPLE_TERMS - everything):
        return Verdict("example-leak", tuple(sorted(new)), (), len(new))
    if not new:  # a bare "yes"/"no" adds the answer itself; the excerpt below shows why
        return Verdict(None if polar else "slm-echo", (), (), 0)
    source = terms_of(cited)
    checkable = new
    if mostly_japanese(lead) != mostly_japanese(cited):  # only figures and names carry over
        names = mostly_japanese(lead)  # Latin words in a Japanese lead are names ("VPN")
        checkable = {t for t in new if _FIGURE.fullmatch(t) or (names and t.isascii())}
    supported = checkable & source
    unsupported = bool(checkable) and (
        len(supported) < MIN_SUPPORT * len(checkable)
        or any(_FIGURE.fullmatch(t) and t not in source for t in checkable))
    return Verdict("unsupported" if unsupported else None, tuple(sorted(new)),
                   tuple(sorted(supported)), len(checkable))


def excerpt_lines(passage: str, lead: str, question: str, chunk: str = "") -> list[str]:
    """The 1-3 lines of ``passage`` (verbatim) that best support the lead and the question,
    in document order; the matching ``chunk``'s first line when nothing overlaps (another
    language)."""
    pieces = split_pieces(passage)
    if not pieces:
        return []
    said, asked = terms_of(lead), terms_of(question)
    scores = [2 * len(said & terms_of(p)) + len(asked & terms_of(p)) for p in pieces]
    best = max(scores)
    if best == 0:
        first = split_pieces(chunk)[:1]
        at = next((i for i, p in enumerate(pieces) if first and p == first[0]), 0)
        return pieces[at: at + 1]
    ranked = sorted(range(len(pieces)), key=lambda i: (-scores[i], i))
    keep = [ranked[0]]
    for i in ranked[1:EXCERPT_LINES]:
        size = sum(len(pieces[j]) for j in keep) + len(pieces[i])
        if scores[i] * 2 >= best and size <= EXCERPT_CHARS:
            keep.append(i)
    return [pieces[i] for i in sorted(keep)]


def quoted(lines: Sequence[str], title: str, *, plain_links: bool = False) -> str:
    """``lines`` as Markdown quote lines, then ``> — title``; with ``plain_links`` URLs are code
    (not clickable: text shown without the link checks of an answer)."""
    shown = [_URL.sub(lambda m: f"`{m.group(0)}`", ln) if plain_links else ln for ln in lines]
    return "\n".join([*(f"> {ln}" for ln in shown), f"> — {title}"])


def lead_sentence(text: str, truncated: bool) -> str:
    """The model's answer as one lead line: its lines joined, without a dangling "3." of a
    list, cut back to its last full sentence when the token cap cut it off."""
    text = _DANGLING.sub("", " ".join(ln.strip() for ln in text.splitlines() if ln.strip()))
    if not truncated:
        return text
    ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$)|[。！？]", text)]
    return text[: ends[-1]].strip() if ends else f"{text}…"


_DANGLING = re.compile(r"(?:\s+\d+[.)]?)+\s*$")


def declined_text(not_covered: str, language: Language, lines: Sequence[str],
                  title: str) -> str:
    """"Not covered", then the closest passage and its title, for an answer not kept."""
    if not lines:
        return not_covered
    return f"{not_covered}\n{CLOSEST[language]}\n{quoted(lines, title, plain_links=True)}"
