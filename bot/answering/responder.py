"""The core responder: question in, cited reply out, one ledger row per answer.

``Firstline`` wires the seams together — knowledge store and retriever, the local SLM, the
router, the optional cloud model, the ledger — and is the only object adapters talk to
(:class:`bot.types.Responder`). It never imports a chat SDK.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from bot.answer import Draft, grounded_answer
from bot.cache import AnswerCache, answer_from_cache, remember
from bot.errors import CloudError, UserFacingError, describe
from bot.ids import new_answer_id
from bot.ledger import Ledger, LedgerRow, hash_user
from bot.pricing import Pricing
from bot.prompt import detect_language, not_covered_text
from bot.router import Decision, Router
from bot.settings import Settings
from bot.types import ChatModel, Language, Notify, Question, Reply, Route, Source
from knowledge.embeddings import LocalEmbeddings
from knowledge.indexer import Indexer, IndexSummary, ProgressCallback
from knowledge.retrieval import HybridRetriever, SearchResult
from knowledge.store import KnowledgeStore, open_client

log = logging.getLogger(__name__)

SAMPLES = Path(__file__).resolve().parent.parent / "knowledge" / "samples"


def knowledge_roots(settings: Settings) -> list[Path]:
    return [Path(p) for p in settings.knowledge_paths] or [SAMPLES]


@dataclass
class _Outcome:
    """Everything one answer produced, gathered for the reply and the ledger row."""

    text: str
    route: Route
    reason: str
    covered: bool = True
    cited: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    tokens: dict[str, dict[str, int]] | None = None
    slm_seconds: float = 0.0
    cloud_prompt: int = 0
    cloud_completion: int = 0
    notice: str | None = None
    error: str | None = None
    sources: tuple[Source, ...] | None = None  # a cache hit's; None: from the evidence
    signals: dict[str, Any] | None = None  # when there is no router decision (cache hits)


class Firstline:
    """The :class:`bot.types.Responder` every adapter uses."""

    def __init__(
        self,
        settings: Settings,
        *,
        local: ChatModel,
        store: KnowledgeStore,
        embeddings: LocalEmbeddings,
        ledger: Ledger,
        router: Router,
        cloud: ChatModel | None = None,
    ) -> None:
        self.settings = settings
        self.local = local
        self.cloud = cloud
        self.store = store
        self.embeddings = embeddings
        self.retriever = HybridRetriever(store, embeddings, settings.search_k)
        self.ledger = ledger
        self.router = router
        self.pricing = Pricing.from_settings(settings)
        self.cache = AnswerCache(settings.cache_similarity, settings.cache_ttl_seconds)
        from bot.commands import Commands  # late: commands need a built Firstline

        self.commands = Commands(self)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Settings) -> Firstline:
        from bot.chat_models import cloud_model_from_settings, local_model_from_settings
        from bot.router import router_from_settings

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        embeddings = LocalEmbeddings(settings.embedding_model or None, settings.embedding_device)
        store = KnowledgeStore(
            open_client(settings.data_dir, settings.chroma_url), settings.collection
        )
        return cls(
            settings,
            local=local_model_from_settings(settings),
            store=store,
            embeddings=embeddings,
            ledger=Ledger(settings.ledger_database_url),
            router=router_from_settings(settings),
            cloud=cloud_model_from_settings(settings),
        )

    def indexer(self) -> Indexer:
        return Indexer(
            self.store, self.embeddings, self.settings.chunk_chars, self.settings.confidential_paths
        )

    def index(
        self,
        paths: Sequence[Path] | None = None,
        *,
        full: bool = False,
        progress: ProgressCallback | None = None,
    ) -> IndexSummary:
        from bot.metrics import REINDEX

        try:
            summary = self.indexer().index(
                paths or knowledge_roots(self.settings), full=full, progress=progress
            )
        except Exception:
            REINDEX.labels("error").inc()
            raise
        REINDEX.labels("failed-files" if summary.failed else "ok").inc()
        self._observe_index()
        return summary

    def warm_up(self) -> None:
        """Load the models and the lexical index now rather than on the first question."""
        load = getattr(self.local, "load", None)
        if load is not None:
            load()
        self.embeddings.encode(["warm up"])
        self.retriever.lexical_index()
        self._observe_index()

    def readiness(self) -> dict[str, bool]:
        """What /readyz reports: the model is loaded and the store answers."""
        ready = getattr(self.local, "ready", None)  # a remote SLM: its server answers
        loaded = ready() if callable(ready) else getattr(self.local, "_llm", True) is not None
        try:
            self.store.count()
            store_ok = True
        except Exception:  # any client error means "not ready", with the reason in the log
            log.warning("knowledge store unreachable", exc_info=True)
            store_ok = False
        return {"model_loaded": loaded, "store_reachable": store_ok}

    def _observe_index(self) -> None:
        from bot.metrics import observe_index

        files = self.store.files()
        observe_index(len(files), sum(len(r.chunk_ids) for r in files.values()))

    async def close(self) -> None:
        for model in (self.local, self.cloud):  # a remote SLM has an HTTP session too
            closer = getattr(model, "close", None)
            if closer is not None:
                await closer()
        self.ledger.close()

    # -- the Responder seam ---------------------------------------------------------------
    async def handle(self, question: Question, notify: Notify | None = None) -> Reply:
        started = time.perf_counter()
        answer_id = new_answer_id()
        language = question.language or detect_language(question.text)
        question = replace(question, language=language, text=question.text.strip())
        evidence: SearchResult | None = None
        decision: Decision | None = None
        vector = None
        try:
            command = self.commands.parse(question.text)
            if command is not None:
                outcome = await self.commands.run(command, question, notify)
            else:
                self._check(question)
                cached, vector = await answer_from_cache(self, question)
                if cached is not None:
                    outcome = cached
                else:
                    evidence = await asyncio.to_thread(
                        self.retriever.search, question.text, self._search_depth(), language
                    )
                    decision = self.router.before(question, evidence)
                    decision.signals["retrieval_ms"] = round(evidence.seconds * 1000, 2)
                    outcome = await self._answer(question, evidence, decision)
        except Exception as exc:  # every failure still gets a reply and a ledger row
            text, reference = describe(exc, language)
            failed = not isinstance(exc, UserFacingError)
            outcome = _Outcome(
                text,
                Route.FAILED if failed else Route.DECLINED,
                "error" if failed else "bad-question",
                covered=False,
                error=reference if failed else None,
            )
        reply = self._reply(answer_id, question, evidence, decision, outcome, started)
        await asyncio.to_thread(self._record, question, reply, outcome, evidence)
        if reply.route is Route.CACHE:
            self.cache.served(reply.answer_id, str(reply.signals["cached_answer_id"]))
        else:
            await asyncio.to_thread(remember, self, question, vector, reply)
        return reply

    async def feedback(
        self, answer_id: str, user: str, vote: Literal["up", "down"], reason: str = ""
    ) -> None:
        from bot.metrics import FEEDBACK

        found = await asyncio.to_thread(self.ledger.set_feedback, answer_id, vote, reason)
        if found:
            FEEDBACK.labels(vote).inc()
        log.info("feedback %s on %s (%s)", vote, answer_id, "stored" if found else "unknown id")
        if vote == "down":
            self.cache.forget(answer_id)
        if not found:
            raise UserFacingError("That answer is too old to rate.")

    # -- steps ------------------------------------------------------------------------------
    def _check(self, question: Question) -> None:
        ja = question.language == "ja"
        if not question.text:
            raise UserFacingError(
                "ご質問の内容を入力してください。"
                if ja
                else "Please type a question, e.g. “How do I reset my VPN password?”"
            )
        limit = self.settings.max_question_chars
        if len(question.text) > limit:
            raise UserFacingError(
                f"ご質問が長すぎます({len(question.text)}文字)。{limit}文字以内にまとめてください。"
                if ja
                else f"That question is too long ({len(question.text)} characters); "
                f"please keep it under {limit} characters."
            )

    def _search_depth(self) -> int:
        return max(self.settings.top_k, 5)

    async def _answer(
        self, question: Question, evidence: SearchResult, decision: Decision
    ) -> _Outcome:
        from bot.escalation import escalate

        language: Language = question.language or "en"
        if decision.route is Route.DECLINED:
            return _Outcome(
                not_covered_text(language, self._helpdesk(language)),
                Route.DECLINED,
                decision.reason,
                covered=False,
            )
        notice, fallback, reason = None, False, decision.reason
        if decision.route is Route.CLOUD:
            first = await escalate(self, question, evidence, decision, local=None)
            if first.outcome is not None:
                return first.outcome
            notice, fallback = first.notice, first.fallback
        draft = await self._local_draft(question, evidence)
        after = self.router.after(question, evidence, draft)
        decision.signals.update(after.signals)
        decision.signals["slm_prompt_ms"] = round(draft.completion.prompt_seconds * 1000, 2)
        decision.signals["slm_generation_ms"] = round(
            draft.completion.generation_seconds * 1000, 2)
        if decision.route is not Route.CLOUD:
            reason = after.reason
            if after.route is Route.CLOUD:
                second = await escalate(self, question, evidence, after, local=draft)
                if second.outcome is not None:
                    return second.outcome
                notice, fallback = second.notice, second.fallback
                decision.signals.update(after.signals)
        if not draft.covered:
            return self._local_outcome(draft, Route.DECLINED, "slm-not-covered")
        route = Route.LOCAL_FALLBACK if fallback else Route.LOCAL
        return self._local_outcome(draft, route, reason, notice)

    async def _local_draft(self, question: Question, evidence: SearchResult) -> Draft:
        language: Language = question.language or "en"
        return await grounded_answer(
            self.local,
            question.text,
            evidence.hits[: self.settings.top_k],
            language,
            history=question.history,
            helpdesk=self._helpdesk(language),
            max_tokens=self.settings.slm_max_tokens,
            passage_units=self.settings.passage_units,
        )

    def _local_outcome(
        self, draft: Draft, route: Route, reason: str, notice: str | None = None
    ) -> _Outcome:
        c = draft.completion
        return _Outcome(
            draft.text,
            route,
            reason,
            draft.covered,
            draft.cited_paths,
            (c.model,),
            {c.model: {"prompt": c.prompt_tokens, "completion": c.completion_tokens}},
            slm_seconds=c.seconds,
            notice=notice,
        )

    def _helpdesk(self, language: Language) -> str:
        return self.settings.helpdesk_text_ja if language == "ja" else self.settings.helpdesk_text

    # -- reply and ledger -----------------------------------------------------------------
    def _reply(
        self,
        answer_id: str,
        question: Question,
        evidence: SearchResult | None,
        decision: Decision | None,
        outcome: _Outcome,
        started: float,
    ) -> Reply:
        sources: list[Source] = list(outcome.sources or ())
        for h in evidence.hits if evidence else []:
            if all(s.path != h.path for s in sources):  # one entry per file, best rank
                sources.append(Source(h.path, h.title, round(h.score, 4), h.heading))
        cost, _ = self._costs(outcome)
        return Reply(
            text=outcome.text,
            answer_id=answer_id,
            route=outcome.route,
            reason=outcome.reason,
            covered=outcome.covered,
            language=question.language or "en",
            sources=tuple(sources),
            cited=outcome.cited,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            cost_usd=cost,
            models=outcome.models,
            signals=dict(decision.signals) if decision else dict(outcome.signals or {}),
            tokens=outcome.tokens or {},
            error=outcome.error,
            notice=outcome.notice,
        )

    def _costs(self, outcome: _Outcome) -> tuple[float, float]:
        """(actual cost, what the same answer would have cost all-cloud)."""
        actual = self.pricing.onprem_cost(outcome.slm_seconds) + self.pricing.cloud_cost(
            outcome.cloud_prompt, outcome.cloud_completion
        )
        prompt = sum(t.get("prompt", 0) for t in (outcome.tokens or {}).values())
        completion = sum(t.get("completion", 0) for t in (outcome.tokens or {}).values())
        if outcome.cloud_prompt:
            prompt, completion = outcome.cloud_prompt, outcome.cloud_completion
        return round(actual, 8), round(self.pricing.all_cloud_cost(prompt, completion), 8)

    def _record(
        self, question: Question, reply: Reply, outcome: _Outcome, evidence: SearchResult | None
    ) -> None:
        _, all_cloud = self._costs(outcome)
        row = LedgerRow(
            answer_id=reply.answer_id,
            created_at=datetime.now(UTC),
            channel=question.channel,
            user_hash=hash_user(question.user, self.settings.user_hash_salt),
            conversation=question.conversation,
            route=reply.route.value,
            reason=reply.reason,
            signals=_jsonable(reply.signals),
            models=list(reply.models),
            tokens=reply.tokens,
            latency_ms=reply.latency_ms,
            cost_usd=reply.cost_usd,
            all_cloud_cost_usd=all_cloud,
            sources=[{"path": s.path, "title": s.title, "score": s.score} for s in reply.sources],
            language=reply.language,
            question=question.text if self.settings.log_question_text else None,
            error=reply.error,
        )
        try:
            self.ledger.record(row)
        except Exception:  # the user already has the answer; the gap is logged loudly
            log.exception("ledger write failed for answer %s", reply.answer_id)
        from bot.metrics import observe_reply

        observe_reply(reply, question.channel, all_cloud)
        log.info("answer %s: %s (%s) in %.0f ms", reply.answer_id, reply.route.value,
                 reply.reason, reply.latency_ms, extra={"fields": _log_fields(row)})


def _log_fields(row: LedgerRow) -> dict[str, Any]:
    """The answer's log record: the ledger row without sources and signals (question text only
    when FIRSTLINE_LOG_QUESTION_TEXT put it in the row)."""
    keep = ("answer_id", "channel", "user_hash", "route", "reason", "models", "tokens",
            "latency_ms", "cost_usd", "all_cloud_cost_usd", "language", "error")
    fields = {name: getattr(row, name) for name in keep}
    if row.question is not None:
        fields["question"] = row.question
    return fields


def _jsonable(signals: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in signals.items():
        if isinstance(value, float):
            out[key] = round(value, 5)
        elif isinstance(value, (int, str, bool)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out


__all__ = ["Firstline", "knowledge_roots", "CloudError"]
