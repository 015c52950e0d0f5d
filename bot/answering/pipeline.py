"""The answer path as a list of steps, built once and run for every question.

As Bolt assembles its middleware list in ``App.__init__`` and runs it per request, the
responder builds its steps once (:func:`bot.answering.responder.build_steps`) and
:class:`Pipeline` runs them in order over an :class:`~bot.answering.record.AnswerRecord` until
one of them finishes the answer. A failure anywhere still ends as an answer: a
:class:`~bot.errors.UserFacingError` is shown as written, anything else becomes an apology with a
reference id (and a logged traceback) — the user and the ledger always get a row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from bot.answering.record import AnswerRecord, Outcome
from bot.errors import UserFacingError, describe
from bot.types import Route

log = logging.getLogger(__name__)


class Step(Protocol):
    """One step of the answer path: reads the record, adds its part, may finish it."""

    async def __call__(self, answer: AnswerRecord) -> None: ...


class Pipeline:
    """Runs ``steps`` in order until the answer is finished, then every one of ``finish``
    (steps that check or rewrite the finished answer, whoever finished it)."""

    def __init__(self, steps: Sequence[Step], finish: Sequence[Step] = ()) -> None:
        self.steps = tuple(steps)
        self.finish = tuple(finish)

    async def run(self, answer: AnswerRecord) -> None:
        try:
            for step in self.steps:
                if answer.done:
                    break
                await step(answer)
            if not answer.done:
                raise RuntimeError("the answer path ended without an outcome")
            for step in self.finish:
                await step(answer)
        except Exception as exc:  # every failure still gets a reply and a ledger row
            _fail(answer, exc)

    def names(self) -> list[str]:
        """The steps' class names, in order (for logs and docs)."""
        return [type(step).__name__ for step in (*self.steps, *self.finish)]


def _fail(answer: AnswerRecord, exc: Exception) -> None:
    text, reference = describe(exc, answer.language)
    if isinstance(exc, UserFacingError):
        answer.finish(Outcome(text, Route.DECLINED, "bad-question", covered=False))
        return
    answer.error = reference
    answer.finish(Outcome(text, Route.FAILED, "error", covered=False))
