"""Step: a follow-up gets a standalone search text from its thread, before retrieval.

"and how long does it take?" or 「それはいつまでですか?」 retrieved on its own words finds
whatever mentions "how long"; the thread says what "it" is. :func:`standalone` decides cheaply
(no model call): a question in a thread with earlier user turns is a follow-up when it leans on
them — it starts like a continuation ("and", "what about", では, じゃあ), points back (it, that,
その, それ) or is too short to stand alone — and its search text is then the earlier user
question(s) followed by it. The question itself is unchanged: the prompt shows it with the
thread, and only retrieval uses :attr:`~bot.answering.record.AnswerRecord.search_text`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answering.record import AnswerRecord
from bot.types import Language, Turn
from knowledge.lexical import content_terms

_EN_LEAD = re.compile(
    r"^\s*(?:and|but|so|ok(?:ay)?|also|then|or|what about|how about|what if|same for)\b", re.I)
_EN_POINTER = re.compile(
    r"\b(?:it|its|that|this|those|these|them|they|one|ones|there|then|same|either|other)\b",
    re.I)
_JA_LEAD = re.compile(r"^\s*(?:それ|その|そこ|では|じゃあ|じゃ|でも|あと|また|ちなみに|なら)")
_JA_POINTER = re.compile(r"それ|その|そこ|そっち|あれ|これ|この|同じ|そう")
SHORT_EN_TERMS = 3  # content terms; "how many phones can I register?" has two
SHORT_JA_CHARS = 16  # 「1回何時間まで？」, 「ボストンはどう？」
EARLIER_TURNS = 2  # user turns walked back through while they are follow-ups themselves


def is_follow_up(text: str, language: Language) -> bool:
    """Whether ``text`` leans on the thread before it (a cheap surface test)."""
    if language == "ja":
        short = len(re.sub(r"\s", "", text)) <= SHORT_JA_CHARS
        return short or bool(_JA_LEAD.search(text) or _JA_POINTER.search(text))
    short = len(content_terms(text)) <= SHORT_EN_TERMS
    return short or bool(_EN_LEAD.search(text) or _EN_POINTER.search(text))


def standalone(text: str, history: Sequence[Turn], language: Language) -> str | None:
    """The search text for a follow-up: the earlier user question(s) it leans on, then
    ``text``; None when ``text`` stands alone or the thread has no earlier user turn."""
    earlier = [t.text.strip() for t in history if t.role == "user" and t.text.strip()]
    if not earlier or not is_follow_up(text, language):
        return None
    taken = [earlier[-1]]
    for turn in reversed(earlier[:-1]):
        if len(taken) >= EARLIER_TURNS or not is_follow_up(taken[0], language):
            break
        taken.insert(0, turn)
    return " ".join([*taken, text.strip()])


class Rewrite:
    """Fills ``answer.search_text`` for a follow-up (left None otherwise)."""

    async def __call__(self, answer: AnswerRecord) -> None:
        q = answer.question
        answer.search_text = standalone(q.text, q.history, answer.language)
        if answer.search_text is not None:
            answer.signals["rewritten"] = True
