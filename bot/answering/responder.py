"""The core responder: question in, cited reply out, one ledger row per answer.

``Firstline`` is the :class:`bot.types.Responder` every adapter talks to (``handle``;
``stream`` gives the same answer as events while it is written, :mod:`bot.answering.streaming`).
It is given its parts (built from settings by the composition root, :mod:`bot.app.composition`),
builds the answer path once — :func:`build_steps`, read it top to bottom — and runs it for every
question. It never imports a chat SDK, and it never swaps a part after construction.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncGenerator
from typing import Literal

from bot.answering.approved import ApprovedBook, ApprovedMatch, approved_encoders
from bot.answering.cache import AnswerCache, CacheLookup
from bot.answering.commands import Commands
from bot.answering.decide import Decide
from bot.answering.decompose import Decomposer
from bot.answering.empty import EmptyKnowledge
from bot.answering.escalation import Budget, Escalate
from bot.answering.flagged import WarnFlagged
from bot.answering.gaps import GapFinder
from bot.answering.handoff.desk import HandoffDesk
from bot.answering.handoff.promote import Promoter
from bot.answering.identity import FileDirectory, Identify, NoDirectory
from bot.answering.indexing import Indexing
from bot.answering.links import SafeLinks
from bot.answering.local import CheckDraft, Drafter, LocalDraft, SettleLocal
from bot.answering.pipeline import Pipeline, Step
from bot.answering.prompt import Helpdesk, fixed_prefix
from bot.answering.record import AnswerRecord
from bot.answering.recording import AnswerRecorder, build_reply
from bot.answering.retrieval import Retrieve
from bot.answering.rewrite import Rewrite
from bot.answering.streaming import AnswerEvents
from bot.answering.validation import Validate
from bot.answering.verify import DeclineUnsure, Verify
from bot.errors import UserFacingError
from bot.ledger.pricing import Pricing
from bot.ledger.store import Ledger
from bot.models.base import ChatModel
from bot.models.redaction import company_patterns
from bot.ops.metrics import FEEDBACK
from bot.routing.abstention import abstention_from_setting
from bot.routing.router import Router
from bot.settings import Settings
from bot.types import (
    HandoffAsk,
    HandoffResult,
    HandoffTarget,
    Notify,
    Promotion,
    PromotionResult,
    Question,
    Reply,
    StreamEvent,
    StreamingResponder,
)
from knowledge.embeddings import Embedder
from knowledge.retrieval import HybridRetriever, Searcher
from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)


class Firstline(StreamingResponder):
    """The :class:`bot.types.Responder` every adapter uses.

    ``ledger`` plays all the ledger roles (answers, event claims, locks, question traces,
    approved answers); ``searcher``
    defaults to hybrid retrieval over ``store`` with ``embeddings`` (and ``multilingual``, the
    second dense side, when given; the indexer then embeds with both).
    """

    def __init__(self, settings: Settings, *, local: ChatModel, store: KnowledgeStore,
                 embeddings: Embedder, ledger: Ledger, router: Router,
                 cloud: ChatModel | None = None, searcher: Searcher | None = None,
                 multilingual: Embedder | None = None,
                 handoff: HandoffTarget | None = None) -> None:
        self.settings = settings
        self.local, self.cloud, self.router = local, cloud, router
        self.store, self.embeddings, self.ledger = store, embeddings, ledger
        self.searcher = searcher or HybridRetriever(
            store, embeddings, settings.search_k, multilingual=multilingual,
            passage_units=settings.section_units, lexical_dir=settings.data_dir / "lexical")
        self.pricing = Pricing.from_settings(settings)
        self.cache = AnswerCache(settings.cache_similarity, settings.cache_ttl_seconds)
        # the question traces' encoder; approved answers have one per language
        self.question_encoder = multilingual or embeddings
        self.approved = ApprovedBook(ledger, approved_encoders(embeddings, multilingual), store,
                                     settings.approved_similarity,
                                     settings.approved_similarity_ja)
        self.indexing = Indexing.from_settings(settings, store, embeddings, multilingual,
                                               warm=self._after_index)
        self.gaps = GapFinder(ledger, store, similarity=settings.gaps_similarity,
                              low_confidence=settings.gaps_low_confidence,
                              min_count=settings.gaps_min_count)
        self.commands = Commands(self.indexing, ledger, ledger, local=local, cloud=cloud,
                                 user_hash_salt=settings.user_hash_salt, pricing=self.pricing,
                                 gaps=self.gaps)
        self.cache_step = CacheLookup(self.cache, embeddings, store, ledger)
        self.recorder = AnswerRecorder(ledger, self.pricing, user_hash_salt=settings.user_hash_salt,
                                       keep_question_text=settings.log_question_text,
                                       encoder=self.question_encoder)
        self.pipeline = Pipeline(build_steps(self),
                                 [SafeLinks(settings.link_domains), WarnFlagged(store)])
        self.desk = HandoffDesk(
            ledger, store, team={"en": settings.handoff_team, "ja": settings.handoff_team_ja},
            every_answer=settings.handoff_on_every_answer, redacting=settings.handoff_redact,
            company=company_patterns(settings.redact_patterns),
            audience=settings.handoff_audience, target=handoff)
        self.promoter = Promoter(ledger, self.approved, settings.handoff_review_days)
        self._running: set[asyncio.Task[None]] = set()  # streamed answers in progress

    # -- the Responder seam ---------------------------------------------------------------
    async def handle(self, question: Question, notify: Notify | None = None) -> Reply:
        return await self._answer(AnswerRecord.start(question, notify))

    async def stream(self, question: Question,
                     notify: Notify | None = None) -> AsyncGenerator[StreamEvent, None]:
        """The answer as it is written (:class:`bot.types.StreamingResponder`). The answer runs
        as its own task: a consumer that stops early does not stop it, so it still gets its
        one ledger row."""
        events = AnswerEvents()
        task = asyncio.create_task(self._streamed(AnswerRecord.start(question, notify, events)))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        while (event := await events.queue.get()) is not None:
            yield event
        await task  # raises what the answer raised (the pipeline itself turns errors to replies)

    async def _streamed(self, answer: AnswerRecord) -> None:
        assert answer.events is not None
        try:
            answer.events.settle(await self._answer(answer))
        except BaseException:
            answer.events.end()
            raise

    async def _answer(self, answer: AnswerRecord) -> Reply:
        await self.pipeline.run(answer)
        reply = build_reply(answer, self.pricing)
        reply = dataclasses.replace(reply, handoff=self.desk.offer(reply))
        await asyncio.to_thread(self.recorder.record, answer, reply)
        await asyncio.to_thread(self.cache_step.remember, answer, reply)
        return reply

    async def feedback(self, answer_id: str, user: str, vote: Literal["up", "down"],
                       reason: str = "") -> None:
        found = await asyncio.to_thread(self.ledger.set_feedback, answer_id, vote, reason)
        if found:
            FEEDBACK.labels(vote).inc()
        log.info("feedback %s on %s (%s)", vote, answer_id, "stored" if found else "unknown id")
        if vote == "down":
            self.cache.forget(answer_id)
        if not found:
            raise UserFacingError("That answer is too old to rate.")

    def _after_index(self) -> None:
        """After a reindex: the new revision's lexical index, and approved answers whose cited
        documents changed withdrawn (each step logs its own failure; both are retried later)."""
        try:
            self.approved.sweep()
        except Exception:
            log.exception("could not check the approved answers after indexing")
        self.searcher.load()

    async def handoff(self, ask: HandoffAsk) -> HandoffResult:
        """"Ask a person": mark, redact and deliver (:mod:`bot.answering.handoff`)."""
        return await self.desk(ask)

    async def promote(self, promotion: Promotion) -> PromotionResult:
        """The helpdesk's reply as an approved answer (:mod:`bot.answering.handoff.promote`)."""
        return await self.promoter(promotion)

    # -- lifecycle ------------------------------------------------------------------------
    def load(self) -> None:
        """Load the models and the lexical index now rather than on the first question, and
        have the local model process the answer prompt's fixed beginning."""
        self.local.load()
        try:
            self.local.warm(fixed_prefix())
        except Exception:  # only a head start: without it the first answer pays for the prefix
            log.warning("could not evaluate the answer prompt's fixed beginning", exc_info=True)
        self.searcher.load()
        self.indexing.observe()

    def readiness(self) -> dict[str, bool]:
        """What /readyz reports: the model is loaded (or its server answers) and the store
        answers."""
        try:
            self.store.count()
            store_ok = True
        except Exception:  # any client error means "not ready", with the reason in the log
            log.warning("knowledge store unreachable", exc_info=True)
            store_ok = False
        return {"model_loaded": self.local.ready(), "store_reachable": store_ok}

    async def aclose(self) -> None:
        """Close the parts (model sessions and contexts, the index, the ledger) once the
        streamed answers still running have their ledger rows."""
        await asyncio.gather(*self._running, return_exceptions=True)
        await self.local.aclose()
        if self.cloud is not None:
            await self.cloud.aclose()
        await self.desk.aclose()
        self.searcher.close()
        self.ledger.close()


def build_steps(core: Firstline) -> list[Step]:
    """The answer path, in order; each step gets only the parts it uses."""
    s = core.settings
    helpdesk = Helpdesk(s.helpdesk_text, s.helpdesk_text_ja)
    depth = max(s.top_k, 5)
    drafter = Drafter(core.local, helpdesk, top_k=s.top_k, max_tokens=s.slm_max_tokens,
                      passage_units=s.passage_units)
    check = CheckDraft(core.router)
    directory = (FileDirectory(s.directory, check_seconds=s.directory_check_seconds)
                 if s.directory else NoDirectory())
    return [
        Identify(directory),                              # the asker's groups
        core.commands,                                    # admin commands typed in chat
        Validate(s.max_question_chars),                   # empty / over-long questions
        ApprovedMatch(core.approved, core.question_encoder),  # an admin-approved answer fits
        core.cache_step,                                  # a recent answer that still holds
        Rewrite(),                                        # a follow-up's standalone search text
        Retrieve(core.searcher, depth),                   # hybrid search
        EmptyKnowledge(core.store),                       # nothing indexed yet: a hint
        Decide(core.router, helpdesk),                    # decline, or want the cloud
        LocalDraft(drafter),                              # the SLM drafts from the passages
        check,                                            # the router judges the draft
        Verify(core.local, abstention_from_setting(s.abstention_config), top_k=s.top_k,
               passage_units=s.passage_units),            # p_right vs threshold (yes/no if read)
        Escalate(core.cloud, Budget(core.ledger, s.budget_daily_usd, s.budget_monthly_usd),
                 Decomposer(core.local, core.searcher, depth, s.top_k), helpdesk,
                 redact=s.redact, top_k=s.top_k, max_tokens=s.slm_max_tokens,
                 company_patterns=s.redact_patterns, answers=core.ledger, catalog=core.store),
        DeclineUnsure(helpdesk),                          # unsure and nobody else answered
        SettleLocal(drafter, check),                      # otherwise: the local answer
    ]
