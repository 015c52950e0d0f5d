"""Approved answers: admin-curated question/answer pairs given before any model runs.

:class:`ApprovedBook` is the API (the CLI, the console and the hand-off's "promote" call it):
:meth:`~ApprovedBook.add` a question/answer pair with an owner, a language, a review date and
the documents it cites, :meth:`~ApprovedBook.edit`, :meth:`~ApprovedBook.withdraw`, and
:meth:`~ApprovedBook.sweep` (withdraw those whose cited documents changed or disappeared; run
after every reindex). :class:`ApprovedMatch` is the pipeline step, right after validation and
before the answer cache. An approved answer is given when all of these hold:

* the question's embedding has cosine similarity >= ``FIRSTLINE_APPROVED_SIMILARITY``
  (``…_JA`` for Japanese) with the approved question's, in the same language, each language
  with its own encoder (:func:`approved_encoders`: English the main embeddings, all-MiniLM,
  Japanese the multilingual one; answers stored with another encoder are re-embedded at their
  first lookup); a Japanese question must also name the same things (:func:`approved_topic` of
  the cache's topic marks, with a looser allowance);
* every cited document still has the SHA-256 it had when approved (else the answer is withdrawn
  on the spot, with the reason, and the next candidate is tried);
* the asker may read every cited document (their current audiences); one citing nothing has its
  own ``audience`` (empty: everyone).

Past its review date it is still given (the owner vouched for it; a lapse in review should not
turn answers off), flagged ``approved_due`` in the ledger signals and shown as due in
``firstline approved list`` and the console. Follow-up questions in a thread are not matched
(their meaning depends on the thread), as for the cache.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import numpy as np

from bot.answering.cache import hashes_of, topic_marks
from bot.answering.record import AnswerRecord, Outcome
from bot.errors import UserFacingError
from bot.ledger.approved import Approved, CitedDocument, new_approved_id
from bot.ledger.roles import ApprovedAnswers
from bot.ledger.rows import utcnow
from bot.ledger.traces import pack
from bot.types import Language, Route, Source
from knowledge.access import Reader, groups_of
from knowledge.embeddings import Embedder
from knowledge.store import FileRecord, KnowledgeStore

log = logging.getLogger(__name__)

REASON = "approved-answer"
LANGUAGES = ("en", "ja")
# the Japanese topic guard's allowance: the cache's 2 turns away most looser paraphrases
# (tests/bench/calibrate_approved.py)
APPROVED_TOPIC_DIFFERENCE = 3


def approved_encoders(main: Embedder, multilingual: Embedder | None) -> dict[str, Embedder]:
    """Each language's encoder: English the main embeddings (all-MiniLM; the multilingual one
    cannot tell English near misses from paraphrases, tests/bench/calibrate_approved.py),
    Japanese the multilingual one (the main one when it is off)."""
    return {"en": main, "ja": multilingual or main}


def approved_topic(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two Japanese questions name the same things (their marks differ in at most
    :data:`APPROVED_TOPIC_DIFFERENCE` items)."""
    return len(a ^ b) <= APPROVED_TOPIC_DIFFERENCE


@dataclass(frozen=True)
class ApprovedHit:
    item: Approved
    similarity: float


class ApprovedBook:
    """Adds, edits, withdraws, sweeps and matches approved answers (``store``: the ledger's
    :class:`~bot.ledger.roles.ApprovedAnswers` role; ``catalog``: the knowledge store's file
    records, for the cited documents' hashes and audiences; ``encoders``: each language's encoder,
    :func:`approved_encoders`, or one for both)."""

    def __init__(self, store: ApprovedAnswers, encoders: Mapping[str, Embedder] | Embedder,
                 catalog: KnowledgeStore, similarity: float, similarity_ja: float | None = None,
                 *, today: Callable[[], date] | None = None) -> None:
        self.store = store
        self.encoders = (dict(encoders) if isinstance(encoders, Mapping)
                         else dict.fromkeys(LANGUAGES, encoders))
        self.catalog = catalog
        self.similarity = {"en": similarity,
                           "ja": similarity if similarity_ja is None else similarity_ja}
        self.today = today or (lambda: datetime.now(UTC).date())

    # -- curating -------------------------------------------------------------------------
    def add(self, question: str, answer: str, language: str, owner: str, *,
            review_on: date | None = None, cited: Sequence[str] = (),
            audience: Sequence[str] = (), origin: str = "") -> Approved:
        """Approve ``answer`` for ``question`` (and questions like it); ``cited``: indexed
        document paths, hashed now. Raises :class:`UserFacingError` on bad input."""
        question, answer, language = _checked(question, answer, language, owner)
        item = Approved(new_approved_id(), question, answer, language, owner.strip(), review_on,
                        self._cite(cited), groups_of(list(audience)),
                        self.encoders[language].name, self._embed(question, language),
                        tuple(sorted(topic_marks(question, language))),
                        origin=origin)
        self.store.add_approved(item)
        log.info("approved answer %s added by %s (%s)", item.id, item.owner, origin or "-")
        return item

    def edit(self, approved_id: str, *, question: str | None = None, answer: str | None = None,
             language: str | None = None, owner: str | None = None,
             review_on: date | None = None, cited: Sequence[str] | None = None,
             audience: Sequence[str] | None = None) -> Approved:
        """Change an approved answer (re-embedded and re-hashed as needed; a withdrawn one
        edited becomes active again, its cited documents hashed afresh)."""
        old = self.get(approved_id)
        q, a, lang = _checked(question if question is not None else old.question,
                              answer if answer is not None else old.answer,
                              language or old.language, owner if owner is not None else old.owner)
        new = replace(old, question=q, answer=a, language=lang,
                      owner=(owner if owner is not None else old.owner).strip(),
                      review_on=review_on if review_on is not None else old.review_on,
                      audience=groups_of(list(audience)) if audience is not None else old.audience,
                      cited=self._cite(cited if cited is not None
                                       else [c.path for c in old.cited]),
                      status="active", withdrawn_reason="", updated_at=utcnow())
        if (q, lang) != (old.question, old.language) or old.encoder != self.encoders[lang].name:
            new = replace(new, encoder=self.encoders[lang].name, vector=self._embed(q, lang),
                          marks=tuple(sorted(topic_marks(q, lang))))
        self.store.save_approved(new)
        return new

    def withdraw(self, approved_id: str, why: str) -> Approved:
        """Withdraw an approved answer (kept, with ``why``; no longer given)."""
        item = self.get(approved_id)
        done = replace(item, status="withdrawn", withdrawn_reason=why.strip() or "withdrawn",
                       updated_at=utcnow())
        self.store.save_approved(done)
        log.info("approved answer %s withdrawn: %s", approved_id, done.withdrawn_reason)
        return done

    def get(self, approved_id: str) -> Approved:
        item = self.store.approved(approved_id.strip())
        if item is None:
            raise UserFacingError(f"no approved answer {approved_id!r} "
                                  "(`firstline approved list` shows them)")
        return item

    def sweep(self) -> list[Approved]:
        """Withdraw every active answer whose cited documents changed or disappeared (after a
        reindex); returns those withdrawn."""
        hashes = hashes_of(self.catalog.files())
        gone = []
        for item in self.store.approved_list("active"):
            problem = stale(item, hashes)
            if problem is not None:
                gone.append(self.withdraw(item.id, problem))
        return gone

    def due(self) -> list[Approved]:
        """Active answers past their review date."""
        today = self.today()
        return [a for a in self.store.approved_list("active") if a.due(today)]

    # -- matching -------------------------------------------------------------------------
    def match(self, vector: np.ndarray, language: Language, marks: frozenset[str],
              reader: Reader) -> ApprovedHit | None:
        """The most similar active answer above the threshold that is still valid and that
        ``reader`` may see (``vector``: the question by ``encoders[language]``); stale ones met
        on the way are withdrawn."""
        candidates = self._candidates(vector, language, marks)
        if not candidates:
            return None
        records = self.catalog.files()
        hashes = hashes_of(records)
        for item, similarity in candidates:
            problem = stale(item, hashes)
            if problem is not None:
                self.withdraw(item.id, problem)
            elif visible(item, records, reader):
                return ApprovedHit(item, similarity)
        return None

    def _candidates(self, vector: np.ndarray, language: Language,
                    marks: frozenset[str]) -> list[tuple[Approved, float]]:
        items = [self._current(a) for a in self.store.approved_list("active")
                 if a.language == language
                 and (language != "ja" or approved_topic(frozenset(a.marks), marks))]
        items = [a for a in items if a.encoder == self.encoders[language].name]
        if not items:
            return []
        matrix = np.stack([np.frombuffer(a.vector, dtype=np.float16) for a in items])
        sims = matrix.astype(np.float32) @ np.asarray(vector, dtype=np.float32)
        ranked = sorted(zip(items, sims.tolist(), strict=True), key=lambda p: -p[1])
        return [(a, s) for a, s in ranked if s >= self.similarity[language]]

    # -- helpers --------------------------------------------------------------------------
    def _current(self, item: Approved) -> Approved:
        """``item`` embedded by its language's encoder: one stored with another (approved
        before the encoder changed) is re-embedded and saved, once, so it keeps matching."""
        encoder = self.encoders[item.language]
        if item.encoder == encoder.name:
            return item
        new = replace(item, encoder=encoder.name,
                      vector=self._embed(item.question, item.language))
        self.store.save_approved(new)
        log.info("approved answer %s re-embedded with %s (was %s)", item.id, encoder.name,
                 item.encoder or "-")
        return new

    def _embed(self, question: str, language: str) -> bytes:
        return pack(self.encoders[language].encode([question])[0])

    def _cite(self, paths: Sequence[str]) -> tuple[CitedDocument, ...]:
        records = self.catalog.files()
        cited = []
        for path in dict.fromkeys(p.strip() for p in paths if p.strip()):
            record = records.get(path)
            if record is None:
                raise UserFacingError(f"cited document {path!r} is not indexed (cite a document "
                                      "by the path answers show as their source)")
            if record.flags:
                raise UserFacingError(f"cited document {path!r} is flagged (instruction-like "
                                      "text); review it before citing it")
            cited.append(CitedDocument(path, record.sha256, record.title))
        return tuple(cited)


def _checked(question: str, answer: str, language: str,
             owner: str) -> tuple[str, str, Language]:
    question, answer, lang = question.strip(), answer.strip(), language.strip().lower()
    if not question or not answer:
        raise UserFacingError("an approved answer needs a question and an answer text")
    if lang not in LANGUAGES:
        raise UserFacingError(f"language must be en or ja, not {language!r}")
    language_: Language = "ja" if lang == "ja" else "en"
    if not owner.strip():
        raise UserFacingError("an approved answer needs an owner (who vouches for it)")
    return question, answer, language_


def stale(item: Approved, hashes: Mapping[str, str]) -> str | None:
    """Why ``item`` no longer holds (a cited document changed or disappeared), or None."""
    for cited in item.cited:
        now = hashes.get(cited.path)
        if now is None:
            return f"cited document {cited.path} disappeared (or was flagged)"
        if now != cited.sha256:
            return f"cited document {cited.path} changed"
    return None


def visible(item: Approved, records: Mapping[str, FileRecord], reader: Reader) -> bool:
    """Whether ``reader`` may be shown ``item``: every cited document's current audience
    allows them; with nothing cited, the answer's own audience does."""
    if not item.cited:
        return reader.may_read(item.audience)
    return all(c.path in records and reader.may_read(records[c.path].audience)
               for c in item.cited)


class ApprovedMatch:
    """Step: give an approved answer when one fits (route ``approved``, cost 0). The question's
    embedding by ``trace_encoder`` (the question traces' one, the multilingual encoder) is kept
    on the record (``question_vector``) for its trace; an English question is embedded once more
    by its own encoder (all-MiniLM: a few milliseconds) when that is another one."""

    def __init__(self, book: ApprovedBook, trace_encoder: Embedder) -> None:
        self.book, self.trace_encoder = book, trace_encoder

    async def __call__(self, answer: AnswerRecord) -> None:
        q = answer.question
        vectors = await asyncio.to_thread(self.trace_encoder.encode, [q.text])
        answer.question_vector = vectors[0]
        if q.history:
            return
        try:
            hit = await asyncio.to_thread(self._match, answer, vectors[0])
        except Exception:  # the normal answer path still answers
            log.exception("approved answers lookup failed")
            return
        if hit is not None:
            self._give(answer, hit)

    def _match(self, answer: AnswerRecord, traced: np.ndarray) -> ApprovedHit | None:
        text, language = answer.question.text, answer.language
        encoder = self.book.encoders[language]
        vector = traced if encoder.name == self.trace_encoder.name else encoder.encode([text])[0]
        return self.book.match(vector, language, topic_marks(text, language), answer.reader)

    def _give(self, answer: AnswerRecord, hit: ApprovedHit) -> None:
        item = hit.item
        answer.signals.update(approved_id=item.id, approved_similarity=round(hit.similarity, 4),
                              approved_owner=item.owner,
                              approved_due=item.due(self.book.today()))
        sources = tuple(Source(c.path, c.title or c.path, 1.0) for c in item.cited)
        answer.finish(Outcome(item.answer, Route.APPROVED, REASON, True,
                              tuple(c.path for c in item.cited), sources))
