"""The router: answer locally, escalate to the cloud, or decline.

Two small decisions, cheapest signals first:

* ``before`` — from the question and the retrieval evidence alone: long-form or multi-part intents
  go to the cloud (by rule, in both languages); weak evidence is declined (the knowledge base does
  not cover the question, and no model should guess).
* ``after`` — from the SLM's own answer: "not covered" replies and low token-level confidence
  escalate; a confident, cited answer stays local.

Thresholds are data, not code: ``firstline router calibrate`` fits them on an evaluation set for a
target cloud share (RouteLLM's way) and writes a JSON file that ``FIRSTLINE_ROUTER_CONFIG`` loads.
A calibrated file also carries a "needs-cloud" score — a logistic regression over the evidence and
SLM-confidence signals (:data:`SCORE_FEATURES`) — and the threshold that gives the target share;
when present, ``after`` escalates on the score and keeps the rule names as reasons.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.models.base import Draft
from bot.settings import Settings
from bot.types import Question, Route
from knowledge.retrieval import SearchResult

log = logging.getLogger(__name__)

LONG_FORM_EN = (
    r"\b(draft|write|compose|rewrite|summari[sz]e|summary of|translate|compare|comparison|"
    r"explain in detail|step[- ]by[- ]step guide|pros and cons|letter|essay|announcement)\b"
)
LONG_FORM_JA = r"(書いて|作成して|下書き|要約|まとめて|翻訳|比較|詳しく説明|文面|案内文|メールを作)"


@dataclass(frozen=True)
class Decision:
    route: Route
    reason: str
    signals: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RouterConfig:
    """Thresholds; defaults are the calibrated values for the embedded models (see README)."""

    long_form_patterns: tuple[str, ...] = (LONG_FORM_EN, LONG_FORM_JA)
    long_question_chars: int = 400
    multi_part_min_questions: int = 2
    # evidence: declined when the best passage is this weak on both retrievers
    min_dense: float = 0.36
    min_lexical_coverage: float = 0.8
    min_dense_ja: float = 1.01  # the English embedding model says little about Japanese:
    max_unknown_terms_ja: int = 3  # jsquad: 0.7% of answerable questions have 3+; 60% of ours
    min_lexical_coverage_ja: float = 0.45  # ... so Japanese leans on term coverage alone
    # confidence of the SLM's answer
    min_mean_logprob: float = -0.45
    min_token_logprob: float = -6.0
    escalate_uncited: bool = True
    escalate_not_covered: bool = True
    target_cloud_share: float | None = None
    # the calibrated needs-cloud score: sigmoid(bias + weights · features); None: rules only
    score_features: tuple[str, ...] = ()
    score_weights: tuple[float, ...] = ()
    score_bias: float = 0.0
    score_threshold: float | None = None

    def cloud_score(self, signals: Mapping[str, Any], language: str) -> float | None:
        """The probability-like needs-cloud score of an answer's signals (None: no model)."""
        if self.score_threshold is None or not self.score_features:
            return None
        z = self.score_bias + sum(
            w * feature_value(name, signals, language)
            for name, w in zip(self.score_features, self.score_weights, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def load(cls, path: str | Path | None) -> RouterConfig:
        if not path:
            return cls()
        data = json.loads(Path(path).read_text())
        data = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in data.items()
            if k in cls.__dataclass_fields__
        }
        return cls(**data)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n")


def _flag(key: str) -> Callable[[Mapping[str, Any], str], float]:
    return lambda s, _lang: 1.0 if s.get(key) else 0.0


def _number(key: str, default: float = 0.0) -> Callable[[Mapping[str, Any], str], float]:
    def get(s: Mapping[str, Any], _lang: str) -> float:
        value = s.get(key)
        return float(value) if isinstance(value, int | float) else default

    return get


# Inputs of the needs-cloud score, all available once the SLM has drafted its answer.
SCORE_FEATURES: dict[str, Callable[[Mapping[str, Any], str], float]] = {
    "dense_top": _number("dense_top"),
    "term_coverage": _number("term_coverage"),
    "log_lexical_top": lambda s, lang: math.log1p(max(0.0, _number("lexical_top")(s, lang))),
    "fused_gap": _number("fused_gap"),
    "retrievers_agree": _flag("retrievers_agree"),
    "mean_logprob": _number("mean_logprob", -1.0),
    "min_logprob": _number("min_logprob", -10.0),
    "slm_covered": _flag("slm_covered"),
    "slm_cited": _flag("slm_cited"),
    "citations_attributed": _flag("citations_attributed"),
    "answer_echo": _number("answer_echo", 1.0),
    "answer_support": _number("answer_support"),
    "log_new_terms": lambda s, lang: math.log1p(max(0.0, _number("answer_new_terms")(s, lang))),
    "japanese": lambda _s, lang: 1.0 if lang == "ja" else 0.0,
}


def feature_value(name: str, signals: Mapping[str, Any], language: str) -> float:
    return SCORE_FEATURES[name](signals, language)


class Router(Protocol):
    def before(self, question: Question, evidence: SearchResult) -> Decision: ...

    def after(self, question: Question, evidence: SearchResult, draft: Draft) -> Decision: ...


def evidence_signals(evidence: SearchResult) -> dict[str, Any]:
    hits = evidence.hits
    dense = [h.dense for h in hits if h.dense is not None]
    return {
        "hits": len(hits),
        "fused_top": hits[0].score if hits else 0.0,
        "fused_gap": hits[0].score - hits[1].score
        if len(hits) > 1
        else (hits[0].score if hits else 0.0),
        "dense_top": max(dense) if dense else 0.0,
        "lexical_top": max((h.lexical or 0.0) for h in hits) if hits else 0.0,
        "term_coverage": evidence.term_coverage,
        "unknown_terms": len(evidence.unknown_terms),
        # both retrievers put the same chunk first: the local prompt's one passage is a safe bet
        "retrievers_agree": _retrievers_agree(hits),
        "confidential": any(h.confidential for h in hits[:5]),
    }


def _retrievers_agree(hits: list[Any]) -> bool:
    dense = [h for h in hits if h.dense is not None]
    lexical = [h for h in hits if h.lexical is not None]
    if not dense or not lexical:
        return False
    best_dense = max(dense, key=lambda h: h.dense).id
    best_lexical = max(lexical, key=lambda h: h.lexical).id
    return bool(best_dense == best_lexical == hits[0].id)


class RuleRouter:
    """Rules and thresholds over cheap signals; see :class:`RouterConfig`."""

    def __init__(self, config: RouterConfig | None = None) -> None:
        self.config = config or RouterConfig()
        self._long_form = [re.compile(p, re.I) for p in self.config.long_form_patterns]

    def before(self, question: Question, evidence: SearchResult) -> Decision:
        cfg = self.config
        signals = evidence_signals(evidence)
        text = question.text
        questions = len(re.findall(r"[?？]", text))
        signals.update(question_chars=len(text), question_marks=questions)
        if not evidence.hits:
            return Decision(Route.DECLINED, "no-evidence", signals)
        ja = question.language == "ja"
        min_dense = cfg.min_dense_ja if ja else cfg.min_dense
        min_cov = cfg.min_lexical_coverage_ja if ja else cfg.min_lexical_coverage
        if signals["dense_top"] < min_dense and signals["term_coverage"] < min_cov:
            return Decision(Route.DECLINED, "weak-evidence", signals)
        if ja and len(evidence.unknown_terms) >= cfg.max_unknown_terms_ja:
            # kanji compounds no document contains (「食堂」 in a KB without a cafeteria page)
            return Decision(Route.DECLINED, "unknown-terms", signals)
        if any(p.search(text) for p in self._long_form):
            return Decision(Route.CLOUD, "long-form", signals)
        if questions >= cfg.multi_part_min_questions:
            return Decision(Route.CLOUD, "multi-part", signals)
        if len(text) > cfg.long_question_chars:
            return Decision(Route.CLOUD, "long-question", signals)
        return Decision(Route.LOCAL, "evidence-ok", signals)

    def after(self, question: Question, evidence: SearchResult, draft: Draft) -> Decision:
        rule = self._rules_after(draft)
        language = question.language or "en"
        score = self.config.cloud_score({**evidence_signals(evidence), **rule.signals}, language)
        if score is None or self.config.score_threshold is None:
            return rule
        signals = {**rule.signals, "cloud_score": score, "rule_reason": rule.reason}
        if score >= self.config.score_threshold:
            reason = rule.reason if rule.route is Route.CLOUD else "cloud-score"
            return Decision(Route.CLOUD, reason, signals)
        kept = "confident" if rule.route is Route.LOCAL else "below-threshold"
        return Decision(Route.LOCAL, kept, signals)

    def _rules_after(self, draft: Draft) -> Decision:
        cfg = self.config
        c = draft.completion
        signals: dict[str, Any] = {
            "slm_covered": draft.covered,
            "slm_cited": len(draft.cited_paths),
            "citations_attributed": draft.attributed,
            "mean_logprob": c.mean_logprob,
            "min_logprob": c.min_logprob,
            **draft.grounding,
        }
        if not draft.covered:
            return Decision(
                Route.CLOUD if cfg.escalate_not_covered else Route.DECLINED,
                "slm-not-covered",
                signals,
            )
        if c.mean_logprob is not None and c.mean_logprob < cfg.min_mean_logprob:
            return Decision(Route.CLOUD, "low-confidence", signals)
        if c.min_logprob is not None and c.min_logprob < cfg.min_token_logprob:
            return Decision(Route.CLOUD, "low-token-confidence", signals)
        if cfg.escalate_uncited and not draft.cited_paths:
            return Decision(Route.CLOUD, "uncited", signals)
        return Decision(Route.LOCAL, "confident", signals)


def router_from_settings(settings: Settings) -> Router:
    return RuleRouter(RouterConfig.load(settings.router_config or None))
