"""The answer cache: its rules on known vectors, its threshold on real embeddings of the
paraphrase set, and hit / miss / invalidation through the real core."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from recording_cloud import model_id

from bot.answering.cache import AnswerCache, CachedAnswer, same_topic, topic_marks
from bot.answering.responder import Firstline
from bot.ledger.store import Ledger
from bot.models.cloud import CloudChatModel
from bot.routing.router import RuleRouter
from bot.settings import Settings
from bot.types import Question, Reply, Route, Source
from knowledge.embeddings import LocalEmbeddings
from knowledge.store import KnowledgeStore, open_client

ROOT = Path(__file__).resolve().parents[2]


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return np.asarray(v / np.linalg.norm(v), dtype=np.float32)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def entry(answer_id: str, vector: np.ndarray, *, language: str = "en", created: float = 1000.0,
          hashes: dict[str, str] | None = None, marks: frozenset[str] = frozenset()
          ) -> CachedAnswer:
    return CachedAnswer(answer_id, language, vector, marks, f"answer {answer_id} [1]",  # type: ignore[arg-type]
                        Route.LOCAL, ("it/vpn.md",), (Source("it/vpn.md", "VPN", 1.0),),
                        hashes or {"it/vpn.md": "aaa"}, created)


def lookup(cache: AnswerCache, vector: np.ndarray, *, language: str = "en",
           hashes: dict[str, str] | None = None, down: tuple[str, ...] = (),
           marks: frozenset[str] = frozenset()) -> str | None:
    now = {"it/vpn.md": "aaa"} if hashes is None else hashes
    hit = cache.lookup(vector, language, marks, lambda: now,  # type: ignore[arg-type]
                       lambda answer_id: answer_id in down)
    return hit.entry.answer_id if hit else None


def test_a_close_question_hits_and_a_different_one_misses() -> None:
    cache = AnswerCache(0.92, 3600, clock=Clock())
    cache.put(entry("a1", unit(1, 0, 0)))
    assert lookup(cache, unit(1, 0.2, 0)) == "a1"  # cosine 0.98
    assert lookup(cache, unit(1, 1, 0)) is None  # cosine 0.71
    assert lookup(cache, unit(1, 0.2, 0), language="ja") is None  # same vector, other language


def test_entries_expire_and_ttl_zero_disables() -> None:
    clock = Clock()
    cache = AnswerCache(0.92, 60, clock=clock)
    cache.put(entry("a1", unit(1, 0), created=clock.now))
    clock.now += 61
    assert lookup(cache, unit(1, 0)) is None and len(cache) == 0
    assert not AnswerCache(0.92, 0).enabled


def test_a_changed_cited_source_or_a_thumbs_down_invalidates() -> None:
    cache = AnswerCache(0.92, 3600, clock=Clock())
    cache.put(entry("a1", unit(1, 0)))
    assert lookup(cache, unit(1, 0), hashes={"it/vpn.md": "bbb"}) is None  # reindexed, changed
    assert len(cache) == 0
    cache.put(entry("a2", unit(1, 0)))
    assert lookup(cache, unit(1, 0), hashes={}) is None  # the file was removed
    cache.put(entry("a3", unit(1, 0)))
    assert lookup(cache, unit(1, 0), down=("a3",)) is None  # 👎 in the shared ledger
    cache.put(entry("a4", unit(1, 0)))
    cache.served("hit-1", "a4")
    cache.forget("hit-1")  # 👎 on an answer served from a4
    assert lookup(cache, unit(1, 0)) is None


def test_the_cache_is_a_bounded_lru() -> None:
    cache = AnswerCache(0.92, 3600, max_entries=2, clock=Clock())
    cache.put(entry("a", unit(1, 0, 0)))
    cache.put(entry("b", unit(0, 1, 0)))
    assert lookup(cache, unit(1, 0, 0)) == "a"  # a is now the most recently used
    cache.put(entry("c", unit(0, 0, 1)))
    assert lookup(cache, unit(0, 1, 0)) is None  # b went first
    assert lookup(cache, unit(1, 0, 0)) == "a" and lookup(cache, unit(0, 0, 1)) == "c"


def test_japanese_questions_must_name_the_same_things() -> None:
    a = topic_marks("育児休業はいつまで取れますか？", "ja")
    assert same_topic(a, topic_marks("育児休業はいつまで取得できますか？", "ja"))
    assert not same_topic(a, topic_marks("介護休業はいつまで取れますか？", "ja"))
    assert topic_marks("How do I reset my VPN?", "en") == frozenset()


def test_the_default_threshold_reuses_paraphrases_and_never_a_different_question(
        sample_kb: tuple[object, object]) -> None:
    """The calibration behind FIRSTLINE_CACHE_SIMILARITY (tests/bench/calibrate_cache.py)."""
    _, embeddings = sample_kb
    pairs = [json.loads(line) for line in
             (ROOT / "tests/eval/cache-pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    a = embeddings.encode([p["a"] for p in pairs])  # type: ignore[attr-defined]
    b = embeddings.encode([p["b"] for p in pairs])  # type: ignore[attr-defined]
    threshold = Settings.load({}, environ={}).cache_similarity
    reused = {"en": [0, 0], "ja": [0, 0]}  # paraphrases reused, different questions reused
    for p, va, vb in zip(pairs, a, b, strict=True):
        lang = p["language"]
        hit = float(va @ vb) >= threshold and same_topic(topic_marks(p["a"], lang),
                                                         topic_marks(p["b"], lang))
        reused[lang][0 if p["same"] else 1] += hit
    assert reused["en"][1] == 0 and reused["ja"][1] == 0  # never a wrong answer
    assert reused["en"][0] >= 13 and reused["ja"][0] >= 9  # of 16 paraphrases each


# -- through the real core --------------------------------------------------------------------
async def ask(core: object, text: str) -> Reply:
    return await core.handle(Question(text, user="asker"))  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def it_kb(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the sample KB's IT folder."""
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge/samples/it", kb / "it")
    yield kb


@pytest.mark.slm
async def test_cache_hit_miss_and_invalidation_through_the_core(
        llama_server_url: str, it_kb: Path, tmp_path: Path) -> None:
    settings = Settings.load({"data_dir": tmp_path / "data", "knowledge_paths": str(it_kb)},
                             environ={}, config_file=tmp_path / "absent.toml")
    local = CloudChatModel(llama_server_url, "", await model_id(llama_server_url),
                           timeout=600.0, want_logprobs=True)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    core = Firstline(settings, local=local, ledger=ledger, router=RuleRouter(),
                     store=KnowledgeStore(open_client(tmp_path / "data"), "cachetest"),
                     embeddings=LocalEmbeddings())
    core.indexing.index()
    try:
        first = await ask(core, "How do I reset my VPN password?")
        assert first.route is Route.LOCAL and first.covered, first.text
        assert "it/vpn-password-reset.md" in first.cited

        hit = await ask(core, "How can I reset my VPN password?")
        assert (hit.route, hit.reason) == (Route.CACHE, "cache-hit")
        assert hit.text == first.text and hit.cost_usd == 0 and hit.cited == first.cited
        assert hit.signals["cached_answer_id"] == first.answer_id
        row = ledger.get(hit.answer_id)
        assert row is not None and (row.route, row.reason, row.cost_usd) == ("cache",
                                                                             "cache-hit", 0.0)
        assert row.signals["cached_answer_id"] == first.answer_id

        other = await ask(core, "How do I report a phishing email?")
        assert other.route is not Route.CACHE

        vpn = it_kb / "it/vpn-password-reset.md"  # the cited source changes; reindex
        vpn.write_text(vpn.read_text() + "\nThe portal is closed on Sundays.\n")
        assert core.indexing.index().updated == ["it/vpn-password-reset.md"]
        fresh = await ask(core, "How can I reset my VPN password?")
        assert fresh.route is Route.LOCAL and fresh.answer_id != first.answer_id

        again = await ask(core, "How do I reset my VPN password?")
        assert again.route is Route.CACHE and again.signals["cached_answer_id"] == \
            fresh.answer_id
        await core.feedback(fresh.answer_id, "u", "down")  # 👎 excludes it
        after_vote = await ask(core, "How do I reset my VPN password?")
        assert after_vote.route is Route.LOCAL
    finally:
        await core.aclose()
        await local.aclose()
