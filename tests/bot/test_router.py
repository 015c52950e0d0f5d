"""Router decisions in both languages, on the real retriever over the sample knowledge base,
and the calibrated needs-cloud score in ``after``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.language import detect_language
from bot.models.base import Completion, Draft
from bot.routing.router import SCORE_FEATURES, Decision, RouterConfig, RuleRouter
from bot.types import Question, Route
from knowledge.retrieval import HybridRetriever, SearchResult


@pytest.fixture(scope="module")
def retriever(sample_kb: tuple[object, object]) -> HybridRetriever:
    store, embeddings = sample_kb
    return HybridRetriever(store, embeddings, 20)  # type: ignore[arg-type]


def decide(retriever: HybridRetriever, text: str, router: RuleRouter | None = None) -> Decision:
    language = detect_language(text)
    evidence = retriever.search(text, 5, language)
    return (router or RuleRouter()).before(Question(text, language=language), evidence)


@pytest.mark.parametrize("text", [
    "Draft an email to my team announcing the office move",
    "オフィス移転のお知らせメールを書いて",
])
def test_long_form_requests_go_to_the_cloud(retriever: HybridRetriever, text: str) -> None:
    decision = decide(retriever, text)
    assert (decision.route, decision.reason) == (Route.CLOUD, "long-form")


@pytest.mark.parametrize("text", [
    "How many moons does Jupiter have?",
    "How long should I boil an egg to get a soft yolk?",
    "富士山の標高は何メートルですか？",
    "ゆで卵を半熟にするには何分ゆでればよいですか？",
])
def test_unanswerable_questions_with_weak_evidence_are_declined(
        retriever: HybridRetriever, text: str) -> None:
    decision = decide(retriever, text)
    assert (decision.route, decision.reason) == (Route.DECLINED, "weak-evidence")
    assert decision.signals["dense_top"] < 0.36 or detect_language(text) == "ja"


@pytest.mark.parametrize("text", [
    "How do I reset my VPN password? And what is the guest Wi-Fi network called?",
    "VPNのパスワードをリセットするには？また、会議室は何週間先まで予約できますか？",
])
def test_multi_part_questions_go_to_the_cloud(retriever: HybridRetriever, text: str) -> None:
    decision = decide(retriever, text)
    assert (decision.route, decision.reason) == (Route.CLOUD, "multi-part")
    assert decision.signals["question_marks"] == 2


def test_a_covered_question_stays_local(retriever: HybridRetriever) -> None:
    decision = decide(retriever, "How do I reset my VPN password?")
    assert (decision.route, decision.reason) == (Route.LOCAL, "evidence-ok")
    assert decision.signals["dense_top"] > 0.6


def test_a_calibrated_gate_declines_what_the_default_answers(retriever: HybridRetriever) -> None:
    text = "Where can I park my car at the office?"
    strict = RuleRouter(RouterConfig(min_dense=0.99, min_lexical_coverage=1.01))
    assert decide(retriever, text, strict).route is Route.DECLINED
    open_gate = RuleRouter(RouterConfig(min_dense=-1.0, min_lexical_coverage=-1.0))
    assert decide(retriever, text, open_gate).route is not Route.DECLINED


# -- after(): rules, and the score when calibrated ------------------------------------------
def _draft(*, covered: bool = True, cited: tuple[str, ...] = ("it/vpn.md",),
           mean: float = -0.1) -> Draft:
    completion = Completion("Reset it in the portal [1].", "slm", 100, 12, 1.0,
                            mean_logprob=mean, min_logprob=mean * 4)
    return Draft(completion.text, covered, cited, completion, completion.text)


def _scored(threshold: float) -> RuleRouter:
    """A score that is high exactly when the SLM's mean log-probability is low."""
    weights = tuple(-8.0 if name == "mean_logprob" else 0.0 for name in SCORE_FEATURES)
    return RuleRouter(RouterConfig(score_features=tuple(SCORE_FEATURES), score_weights=weights,
                                   score_bias=-4.0, score_threshold=threshold))


EMPTY = SearchResult([], 0.0)
ASK = Question("How do I reset my VPN password?", language="en")


def test_rules_alone_escalate_low_confidence() -> None:
    router = RuleRouter()
    assert router.after(ASK, EMPTY, _draft(mean=-0.1)).route is Route.LOCAL
    low = router.after(ASK, EMPTY, _draft(mean=-0.9))
    assert (low.route, low.reason) == (Route.CLOUD, "low-confidence")
    assert "cloud_score" not in low.signals


def test_the_score_decides_and_keeps_the_rule_reason() -> None:
    router = _scored(threshold=0.5)  # sigmoid(-4 - 8m) >= 0.5  <=>  m <= -0.5
    confident = router.after(ASK, EMPTY, _draft(mean=-0.1))
    assert (confident.route, confident.reason) == (Route.LOCAL, "confident")
    assert confident.signals["cloud_score"] < 0.5
    unsure = router.after(ASK, EMPTY, _draft(mean=-0.9))
    assert (unsure.route, unsure.reason) == (Route.CLOUD, "low-confidence")
    assert unsure.signals["cloud_score"] >= 0.5


def test_the_score_can_keep_a_rule_flagged_answer_local_or_escalate_a_clean_one() -> None:
    lenient = _scored(threshold=0.999)
    kept = lenient.after(ASK, EMPTY, _draft(mean=-0.6))  # rule: low-confidence; score: fine
    assert (kept.route, kept.reason) == (Route.LOCAL, "below-threshold")
    assert kept.signals["rule_reason"] == "low-confidence"
    eager = _scored(threshold=0.001)
    sent = eager.after(ASK, EMPTY, _draft(mean=-0.1))
    assert (sent.route, sent.reason) == (Route.CLOUD, "cloud-score")


def test_calibrated_config_round_trips_through_json(tmp_path: Path) -> None:
    router = _scored(threshold=0.42)
    path = tmp_path / "router.json"
    replace(router.config, target_cloud_share=0.15).save(path)
    loaded = RouterConfig.load(path)
    assert loaded.score_threshold == 0.42 and loaded.target_cloud_share == 0.15
    assert loaded.score_features == tuple(SCORE_FEATURES)
    assert loaded.score_weights == router.config.score_weights
    assert loaded.cloud_score({"mean_logprob": -0.9}, "en") == router.config.cloud_score(
        {"mean_logprob": -0.9}, "en")
