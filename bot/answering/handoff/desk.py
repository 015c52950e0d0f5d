"""The core's side of the hand-off: one :class:`HandoffDesk` per responder."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.answering.handoff.prepare import Record, prepare_request
from bot.answering.handoff.texts import told
from bot.errors import HandoffError, UserFacingError
from bot.ledger.roles import AnswerLog, Handoffs
from bot.types import (
    HandoffAsk,
    HandoffOffer,
    HandoffResult,
    HandoffStatus,
    HandoffTarget,
    Language,
    Reply,
    Route,
)
from knowledge.access import Reader

log = logging.getLogger(__name__)

Offer = HandoffOffer  # under the answer ("now"), after a 👎 ("after-down"), or not ("")
NO_OFFER = (Route.COMMAND, Route.FAILED)
CLAIM_SECONDS = 300.0  # a claim this old without a reference: its delivery died with its replica
NOT_A_QUESTION = "bad-question"  # empty or over-long: asking again helps, a person does not


class HandoffLedger(AnswerLog, Handoffs, Protocol):
    """The two ledger roles the desk uses."""


class Catalog(Protocol):
    def files(self) -> Mapping[str, Record]: ...


class HandoffDesk:
    """Marks, prepares and delivers hand-offs to the one target; see the package docstring.

    ``target`` is the webhook built from settings, or None until an adapter attaches its
    helpdesk channel when it is mounted (:meth:`attach`, once, before serving).
    """

    def __init__(self, ledger: HandoffLedger, catalog: Catalog, *, team: Mapping[Language, str],
                 every_answer: bool = False, redacting: bool = True,
                 company: Sequence[re.Pattern[str]] = (), audience: Sequence[str] = (),
                 target: HandoffTarget | None = None) -> None:
        self.ledger, self.catalog, self.team = ledger, catalog, team
        self.every_answer, self.redacting, self.company = every_answer, redacting, tuple(company)
        self.helpdesk = Reader(frozenset(audience))
        self.target = target

    def attach(self, target: HandoffTarget) -> None:
        """The helpdesk channel an adapter supplies when it is mounted (one target only)."""
        if self.target is not None:
            raise UserFacingError(f"a hand-off target is already set ({self.target.name}); "
                                  f"cannot also use {target.name}")
        self.target = target

    def offer(self, reply: Reply) -> Offer:
        """Whether ``reply`` offers "Ask a person" now, after a 👎, or not."""
        if self.target is None or reply.route in NO_OFFER or reply.reason == NOT_A_QUESTION:
            return ""
        if self.every_answer or reply.route == Route.DECLINED or not reply.covered:
            return "now"
        return "after-down"

    async def __call__(self, ask: HandoffAsk) -> HandoffResult:
        target = self.target
        if target is None:
            return self._result("off", ask.language)
        stale = datetime.now(UTC) - timedelta(seconds=CLAIM_SECONDS)
        claim = await asyncio.to_thread(self.ledger.claim_handoff, ask.answer_id, target.name,
                                        stale)
        if claim != "claimed":
            return self._result(claim, ask.language)
        try:
            reference = await self._deliver(ask, target)
        except HandoffError as exc:
            log.warning("hand-off of %s failed: %s", ask.answer_id, exc)
            await asyncio.to_thread(self.ledger.release_handoff, ask.answer_id)
            return self._result("failed", ask.language)
        except BaseException:
            await asyncio.to_thread(self.ledger.release_handoff, ask.answer_id)
            raise
        # delivered: from here on the mark stays. Always a reference, so that a mark without
        # one is known to be a delivery that died with its replica.
        await asyncio.to_thread(self.ledger.set_handoff_reference, ask.answer_id,
                                reference or f"{target.name}:{ask.answer_id}")
        log.info("answer %s handed off to %s (%s)", ask.answer_id, target.name, reference or "-")
        return self._result("sent", ask.language, reference)

    async def _deliver(self, ask: HandoffAsk, target: HandoffTarget) -> str:
        row = await asyncio.to_thread(self.ledger.get, ask.answer_id)
        assert row is not None  # claimed just now
        request = prepare_request(ask, row, self.catalog.files(), helpdesk=self.helpdesk,
                                  redacting=self.redacting, company=self.company)
        return await target.post(request)

    def answer_of(self, reference: str) -> str | None:
        """The answer a helpdesk thread or ticket came from (for promotion)."""
        return self.ledger.handed_off_answer(reference)

    def _result(self, status: HandoffStatus, language: Language,
                reference: str = "") -> HandoffResult:
        return HandoffResult(status, told(status, language, self.team[language]), reference)

    async def aclose(self) -> None:
        if self.target is not None:
            await self.target.aclose()
