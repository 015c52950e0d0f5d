"""The per-answer record the pipeline's steps fill in, and what it ends as.

One :class:`AnswerRecord` exists per answer. Steps read what earlier steps wrote (the question,
the evidence, the router's decision, the local draft) and add their own part; the record owns the
one mutable ``signals`` dict, so no step writes into a value another module froze (a router
:class:`~bot.routing.router.Decision` stays as the router made it). A step ends the answer by
calling :meth:`AnswerRecord.finish`; the steps after it do not run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bot.answering.streaming import AnswerEvents
from bot.ids import new_answer_id
from bot.language import detect_language
from bot.models.base import Completion, Draft, TextSink
from bot.routing.router import Decision
from bot.types import Language, Notify, Question, Route, Source
from knowledge.access import Reader
from knowledge.retrieval import SearchResult


@dataclass(frozen=True)
class Outcome:
    """What an answer ends as: the text and how it came about."""

    text: str
    route: Route
    reason: str
    covered: bool = True
    cited: tuple[str, ...] = ()
    sources: tuple[Source, ...] | None = None  # a cache hit's own; None: from the evidence


@dataclass(frozen=True)
class Usage:
    """One model call that the answer pays for."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cloud: bool  # priced per token; otherwise on-prem time

    @classmethod
    def of(cls, completion: Completion, *, cloud: bool) -> Usage:
        return cls(completion.model, completion.prompt_tokens, completion.completion_tokens,
                   completion.seconds, cloud)


@dataclass
class AnswerRecord:
    """One answer in the making."""

    question: Question
    notify: Notify | None = None
    answer_id: str = field(default_factory=new_answer_id)
    started: float = field(default_factory=time.perf_counter)
    signals: dict[str, Any] = field(default_factory=dict)
    vector: np.ndarray | None = None  # the question's embedding (the cache's key)
    # the question trace's embedding (approved answers, knowledge gaps): the multilingual
    # encoder's when configured
    question_vector: np.ndarray | None = None
    search_text: str | None = None  # a follow-up's standalone search text; None: the question
    evidence: SearchResult | None = None
    decision: Decision | None = None  # the router's, before any model ran
    draft: Draft | None = None  # the local model's answer
    reason: str = ""  # the reason the reply will give
    cloud_wanted: str | None = None  # why the cloud should answer (a router reason)
    notice: str | None = None  # shown with the answer ("answered on-prem: …")
    fallback: bool = False  # the cloud was tried and failed
    usage: list[Usage] = field(default_factory=list)
    passages: list[str] = field(default_factory=list)  # the text the models were shown
    outcome: Outcome | None = None
    error: str | None = None  # the reference id of a failure
    events: AnswerEvents | None = None  # set when the answer is streamed

    @classmethod
    def start(cls, question: Question, notify: Notify | None = None,
              events: AnswerEvents | None = None) -> AnswerRecord:
        """A record for ``question`` with its text stripped and its language settled."""
        language = question.language or detect_language(question.text)
        return cls(replace(question, language=language, text=question.text.strip()), notify,
                   events=events)

    # -- streaming (no-ops unless the answer is streamed) ---------------------------------
    def status(self, texts: dict[Language, str]) -> None:
        """Tell a streaming asker what is happening (``texts`` per language)."""
        if self.events is not None:
            self.events.status(texts, self.language)

    def on_text(self) -> TextSink | None:
        """Where a model about to write this answer sends its pieces (None: not streamed); its
        first piece replaces whatever text an earlier model streamed."""
        if self.events is None:
            return None
        self.events.begin()
        return self.events.text

    @property
    def language(self) -> Language:
        return self.question.language or "en"

    @property
    def reader(self) -> Reader:
        """Who is asking, as the document audiences see it."""
        q = self.question
        return Reader(frozenset(g.strip().lower() for g in q.groups), shared=q.where == "channel")

    def add_notice(self, text: str) -> None:
        """Add a line shown with the answer ("answered on-prem: …")."""
        self.notice = f"{self.notice} {text}" if self.notice else text

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def finish(self, outcome: Outcome) -> None:
        """End the answer with ``outcome`` (later steps are skipped)."""
        self.outcome = outcome

    def tokens(self) -> dict[str, dict[str, int]]:
        """Tokens per model: ``{model: {"prompt": n, "completion": n}}``."""
        out: dict[str, dict[str, int]] = {}
        for u in self.usage:
            counts = out.setdefault(u.model, {"prompt": 0, "completion": 0})
            counts["prompt"] += u.prompt_tokens
            counts["completion"] += u.completion_tokens
        return out

    def models(self) -> tuple[str, ...]:
        return tuple(u.model for u in self.usage)
