"""The answer cache: a question close to one answered recently gets that answer at once.

An entry is used only while all of these hold, and dropped as soon as one fails:

* the new question's embedding has cosine similarity >= ``FIRSTLINE_CACHE_SIMILARITY`` with the
  cached one, in the same language; Japanese questions must also name the same things (their
  kanji, katakana and latin words differ in at most :data:`MAX_TOPIC_DIFFERENCE` items), because
  the default embedding model is English-only and scores different Japanese questions about
  similar things above 0.92 (calibration: ``tests/bench/calibrate_cache.py`` on
  ``tests/eval/cache-pairs.jsonl``);
* it is younger than ``FIRSTLINE_CACHE_TTL_SECONDS`` (0 turns the cache off);
* nobody gave the answer a 👎 (in this process, or in the shared ledger);
* every file it cites still has the SHA-256 it had when the answer was given (a reindex that
  changed a cited source invalidates it);
* the new asker may read every document it shows (its audience), and an answer citing a
  confidential document is reused only for the person who asked it.

Only covered, cited local or cloud answers to questions without thread history are stored. The
cache lives in memory, bounded (least recently used entries go first), one per process.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from bot.answering.record import AnswerRecord, Outcome
from bot.ledger.roles import AnswerLog
from bot.types import Language, Reply, Route, Source
from knowledge.embeddings import Embedder
from knowledge.store import FileRecord, KnowledgeStore

log = logging.getLogger(__name__)

MAX_ENTRIES = 1000
CACHEABLE_ROUTES = frozenset({Route.LOCAL, Route.CLOUD})
MAX_TOPIC_DIFFERENCE = 2
_MARKS = re.compile(r"[A-Za-z0-9]+|[\u30a1-\u30fa\u3400-\u9fff]")


def topic_marks(text: str, language: Language) -> frozenset[str]:
    """What a Japanese question names: its kanji and katakana characters and latin words (kana
    endings and particles are left out). Empty for English, where the embedding suffices."""
    if language != "ja":
        return frozenset()
    return frozenset(m.lower() for m in _MARKS.findall(text))


def same_topic(a: frozenset[str], b: frozenset[str]) -> bool:
    return len(a ^ b) <= MAX_TOPIC_DIFFERENCE


@dataclass(frozen=True)
class CachedAnswer:
    answer_id: str
    language: Language
    vector: np.ndarray
    marks: frozenset[str]  # topic_marks of the question (not its text)
    text: str
    route: Route
    cited: tuple[str, ...]
    sources: tuple[Source, ...]
    file_hashes: Mapping[str, str]  # cited path -> sha256 when answered
    created: float
    asker: str = ""  # set when a cited source is confidential: reused for that asker only


@dataclass(frozen=True)
class CacheHit:
    entry: CachedAnswer
    similarity: float


class AnswerCache:
    """Bounded in-memory LRU of recent answers, keyed by question embedding."""

    def __init__(self, similarity: float, ttl_seconds: float, *, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.similarity = similarity
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._served: OrderedDict[str, str] = OrderedDict()  # cache-hit answer id -> original
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0 and self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    def now(self) -> float:
        return self._clock()

    def lookup(
        self,
        vector: np.ndarray,
        language: Language,
        marks: frozenset[str],
        current_hashes: Callable[[], Mapping[str, str]],
        voted_down: Callable[[str], bool],
        usable: Callable[[CachedAnswer], bool] = lambda _entry: True,
    ) -> CacheHit | None:
        """The most similar valid entry above the threshold that ``usable`` allows (entries for
        other audiences are passed over); stale candidates are dropped."""
        for entry, similarity in self._candidates(vector, language, marks):
            if not usable(entry):
                continue
            problem = self._problem(entry, current_hashes, voted_down)
            if problem is None:
                with self._lock:
                    if entry.answer_id in self._entries:
                        self._entries.move_to_end(entry.answer_id)
                return CacheHit(entry, similarity)
            log.info("cache entry %s dropped: %s", entry.answer_id, problem)
            self.forget(entry.answer_id)
        return None

    def put(self, entry: CachedAnswer) -> None:
        with self._lock:
            self._entries[entry.answer_id] = entry
            self._entries.move_to_end(entry.answer_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def served(self, hit_answer_id: str, original_answer_id: str) -> None:
        """Remember that ``hit_answer_id`` was served from ``original_answer_id`` (for 👎)."""
        with self._lock:
            self._served[hit_answer_id] = original_answer_id
            while len(self._served) > self.max_entries:
                self._served.popitem(last=False)

    def forget(self, answer_id: str) -> None:
        """Drop the entry of ``answer_id`` — or the one a cache hit with that id came from."""
        with self._lock:
            self._entries.pop(answer_id, None)
            original = self._served.pop(answer_id, None)
            if original is not None:
                self._entries.pop(original, None)

    def _candidates(self, vector: np.ndarray, language: Language, marks: frozenset[str]
                    ) -> list[tuple[CachedAnswer, float]]:
        with self._lock:
            entries = [e for e in self._entries.values()
                       if e.language == language and same_topic(e.marks, marks)]
        if not entries:
            return []
        sims = np.stack([e.vector for e in entries]) @ np.asarray(vector, dtype=np.float32)
        ranked = sorted(zip(entries, sims.tolist(), strict=True), key=lambda p: -p[1])
        return [(e, s) for e, s in ranked if s >= self.similarity]

    def _problem(self, entry: CachedAnswer, current_hashes: Callable[[], Mapping[str, str]],
                 voted_down: Callable[[str], bool]) -> str | None:
        if self._clock() - entry.created > self.ttl_seconds:
            return "expired"
        now = current_hashes()
        if any(now.get(path) != sha for path, sha in entry.file_hashes.items()):
            return "a cited source changed"
        if voted_down(entry.answer_id):
            return "voted down"
        return None


# -- the pipeline's side ----------------------------------------------------------------------
class CacheLookup:
    """Step: answer from the cache when a recent answer fits; after the reply, remember it.

    Questions with thread history are never looked up or stored (their meaning depends on the
    thread). The question's embedding is kept on the record for :meth:`remember`.
    """

    def __init__(self, cache: AnswerCache, embedder: Embedder, catalog: KnowledgeStore,
                 answers: AnswerLog) -> None:
        self.cache = cache
        self.embedder = embedder
        self.catalog = catalog
        self.answers = answers

    async def __call__(self, answer: AnswerRecord) -> None:
        if not self.cache.enabled or answer.question.history:
            return
        text, language = answer.question.text, answer.language
        answer.vector = (await asyncio.to_thread(self.embedder.encode, [text]))[0]
        try:
            hit = await asyncio.to_thread(
                self.cache.lookup, answer.vector, language, topic_marks(text, language),
                lambda: hashes_of(self.catalog.files()), self._voted_down, self._usable_by(answer))
        except Exception:  # an optimisation only: answer the normal way
            log.exception("answer cache lookup failed")
            return
        if hit is None:
            return
        e = hit.entry
        answer.signals.update(cached_answer_id=e.answer_id,
                              cache_similarity=round(hit.similarity, 4),
                              cached_route=e.route.value)
        answer.finish(Outcome(e.text, Route.CACHE, "cache-hit", True, e.cited, e.sources))

    def remember(self, answer: AnswerRecord, reply: Reply) -> None:
        """After the reply: note a cache hit's origin (for 👎), or store a new answer."""
        if reply.route is Route.CACHE:
            self.cache.served(reply.answer_id, str(reply.signals["cached_answer_id"]))
            return
        vector = answer.vector
        if vector is None or reply.route not in CACHEABLE_ROUTES or not reply.covered:
            return
        try:
            records = self.catalog.files()
        except Exception:  # the user has the answer; it just won't be reused
            log.exception("answer cache: cannot read file records")
            return
        hashes = hashes_of(records)
        cited = {path: hashes.get(path, "") for path in reply.cited}
        if not cited or not all(cited.values()):
            return
        private = any(records[p].confidential for p in cited)
        self.cache.put(CachedAnswer(
            reply.answer_id, reply.language, vector, topic_marks(answer.question.text,
                                                                 reply.language),
            reply.text, reply.route, reply.cited, reply.sources, cited, self.cache.now(),
            _asker(answer.question.user) if private else ""))

    def _usable_by(self, answer: AnswerRecord) -> Callable[[CachedAnswer], bool]:
        """Whether an entry may be served to this asker: every document it shows (cited or
        listed) is in their audience here, and a confidential answer only to its own asker."""
        reader, asker = answer.reader, _asker(answer.question.user)
        read: list[Mapping[str, FileRecord]] = []  # the records, read once, when first needed

        def usable(entry: CachedAnswer) -> bool:
            if not read:
                read.append(self.catalog.files())
            records = read[0]
            paths = {s.path for s in entry.sources} | set(entry.cited)
            if any(p not in records or not reader.may_read(records[p].audience) for p in paths):
                return False
            return not entry.asker or entry.asker == asker

        return usable

    def _voted_down(self, answer_id: str) -> bool:
        row = self.answers.get(answer_id)
        return row is not None and row.feedback == "down"


def _asker(user: str) -> str:
    return hashlib.sha256(user.encode()).hexdigest()[:16]


def hashes_of(records: Mapping[str, FileRecord]) -> dict[str, str]:
    """Files' hashes; a flagged file (instruction-like text) has none, so answers citing it
    are dropped from the cache and never stored."""
    return {path: record.sha256 for path, record in records.items() if not record.flags}
