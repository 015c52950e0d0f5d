"""`firstline router calibrate SET_DIR ... --target 0.15`: fit the router on evaluation sets.

RouteLLM's recipe, on our signals:

1. **Collect** (:mod:`bot.app.calibrate`). Each set's corpus is indexed into its own data dir
   (incrementally, so a rerun on the same corpus only re-hashes files) and every question is
   answered by the *local* pipeline only (no cloud, no evidence gate, no answer cache),
   recording the router signals (:attr:`bot.types.Reply.signals`) and whether the local answer
   was right
   (:func:`local_right`).
2. **Gate.** Per language, the weak-evidence thresholds (decline when ``dense_top < min_dense`` and
   ``term_coverage < min_lexical_coverage``; for Japanese also when the question has
   ``max_unknown_terms_ja`` or more kanji/katakana terms no document contains) that decline the
   most unanswerable questions while declining at most 5% of the answerable ones.
3. **Score.** A logistic regression (numpy, L2) from :data:`bot.routing.router.SCORE_FEATURES` to
   "the local answer is wrong" — or, given the cloud's answers to the same questions
   (``--cloud-results``), to "the local answer is wrong and the cloud's is right", RouteLLM's
   preference label — fitted on the questions the gate lets through.
4. **Threshold.** The score at the ``1 - target`` quantile of those questions, so that the share
   sent to the cloud (questions the rules already escalate included) is the target.

The accuracy-vs-escalation curve uses out-of-fold scores (5-fold cross-validation), so it is not
flattered by fitting and evaluating on the same questions.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.evaluation.metrics import EvalQuestion, char_f1, contains_match, load_questions
from bot.language import detect_language
from bot.routing.logistic import Logistic, fit
from bot.routing.logistic import out_of_fold as logistic_out_of_fold
from bot.routing.router import SCORE_FEATURES, RouterConfig, feature_value

log = logging.getLogger(__name__)

MAX_FALSE_DECLINES = 0.05
NO_UNKNOWN_RULE = 1000  # a max_unknown_terms_ja that never declines
UNKNOWN_CUTS = (1, 2, 3, 4, 6, NO_UNKNOWN_RULE)
RULE_CLOUD_REASONS = frozenset({"long-form", "multi-part", "long-question"})
CURVE_STEPS = tuple(i / 10 for i in range(11))
# Never escalated by the gate-free collection router: the gate is fitted afterwards.
OPEN_GATE: dict[str, Any] = {"min_dense": -1.0, "min_lexical_coverage": -1.0,
                             "min_dense_ja": -1.0, "min_lexical_coverage_ja": -1.0,
                             "max_unknown_terms_ja": NO_UNKNOWN_RULE}


@dataclass
class Sample:
    """One question answered by the local pipeline, with its signals and correctness."""

    id: str
    set: str
    language: str
    answerable: bool
    signals: dict[str, Any]
    right: bool
    forced_cloud: bool  # a rule (long-form, multi-part ...) escalates it whatever the score
    covered: bool = True
    cited: list[str] = field(default_factory=list)
    answer: str = ""
    reason: str = ""
    slm_seconds: float = 0.0
    tokens: dict[str, dict[str, int]] = field(default_factory=dict)


def local_right(q: EvalQuestion, covered: bool, cited: Sequence[str], answer: str) -> bool:
    """Cites the gold file (and, with ``answers``, char F1 >= 0.5 or contains one); for an
    unanswerable question, says it is not covered."""
    if not q.answerable:
        return not covered
    if not covered or q.gold not in cited:
        return False
    return not q.answers or char_f1(answer, q.answers) >= 0.5 or contains_match(answer, q.answers)


def set_language(questions: Sequence[EvalQuestion]) -> str:
    ja = sum(detect_language(q.question) == "ja" for q in questions)
    return "ja" if ja * 2 > len(questions) else "en"


def questions_for(set_dir: Path, limit: int, unanswerable: Sequence[Path]) -> list[EvalQuestion]:
    """The set's questions plus the unanswerable ones in the set's language."""
    questions = load_questions(set_dir / "questions.jsonl", limit)
    language = set_language(questions)
    for path in unanswerable:
        questions += [q for q in load_questions(path) if detect_language(q.question) == language]
    return questions


# -- 2. the evidence gate ---------------------------------------------------------------------
def _cuts(values: Iterable[float]) -> list[float]:
    ordered = sorted(set(values))
    mids = [(a + b) / 2 for a, b in zip(ordered, ordered[1:], strict=False)]
    return [-1.0, *mids, ordered[-1] + 1e-9 if ordered else 0.0, 1.01]


def declined(sample: Sample, min_dense: float, min_cov: float,
             max_unknown: int = NO_UNKNOWN_RULE) -> bool:
    s = sample.signals
    weak = float(s.get("dense_top", 0.0)) < min_dense and float(
        s.get("term_coverage", 0.0)) < min_cov
    return weak or int(s.get("unknown_terms", 0) or 0) >= max_unknown


@dataclass(frozen=True)
class Gate:
    min_dense: float
    min_coverage: float
    max_unknown_terms: int
    abstention: float  # share of the unanswerable questions declined
    false_declines: float  # share of the answerable ones declined


def fit_gate(samples: Sequence[Sample],
             unknown_cuts: Sequence[int] = (NO_UNKNOWN_RULE,)) -> Gate | None:
    """The thresholds that decline the most unanswerable questions while declining at most
    :data:`MAX_FALSE_DECLINES` of the answerable ones; None without both kinds. A question is
    declined when ``dense_top < min_dense and term_coverage < min_coverage``, or when it has
    ``max_unknown_terms`` or more terms no document contains (tried: ``unknown_cuts``)."""
    good = np.array([s.answerable for s in samples])
    if good.all() or not good.any():
        return None
    dense = np.array([float(s.signals.get("dense_top", 0.0)) for s in samples])
    cov = np.array([float(s.signals.get("term_coverage", 0.0)) for s in samples])
    unknown = np.array([int(s.signals.get("unknown_terms", 0) or 0) for s in samples])
    d_cuts, c_cuts = _cuts(dense), np.array(_cuts(cov))
    below_cov = cov[None, :] < c_cuts[:, None]  # (coverage cut, sample); memory stays O(cuts · n)
    best: tuple[float, float, int, float, float] | None = None
    for u in sorted(unknown_cuts, reverse=True):  # the mildest rule first wins ties
        unknown_rule = unknown >= u
        for d in d_cuts:
            out = ((dense < d)[None, :] & below_cov) | unknown_rule[None, :]
            false = out[:, good].mean(axis=1)
            abstain = np.where(false <= MAX_FALSE_DECLINES, out[:, ~good].mean(axis=1), -1.0)
            # the most abstention, then the fewest false declines, then the lowest cuts
            j = int(np.argmin(np.where(abstain == abstain.max(), false, np.inf)))
            key = (-float(abstain[j]), float(false[j]), -u, float(d), float(c_cuts[j]))
            if best is None or key < best:
                best = key
    assert best is not None  # declining nothing is always feasible
    return Gate(best[3], best[4], -best[2], -best[0], best[1])


# -- 3. the needs-cloud score ----------------------------------------------------------------
def features(samples: Sequence[Sample], names: Sequence[str]) -> np.ndarray:
    return np.array([[feature_value(n, s.signals, s.language) for n in names] for s in samples],
                    dtype=np.float64).reshape(len(samples), len(names))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 3000) -> Logistic:
    """The needs-cloud score's regression (:func:`bot.routing.logistic.fit`)."""
    return fit(x, y, l2=l2, steps=steps)


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 7) -> np.ndarray:
    """Scores where each question's comes from a model fitted without it."""
    return logistic_out_of_fold(x, y, folds=folds, seed=seed, steps=3000)


def threshold_for(scores: Sequence[float], forced: int, target: float) -> float:
    """The score at which ``target`` of ``len(scores) + forced`` questions go to the cloud."""
    total = len(scores) + forced
    k = round(target * total) - forced
    ordered = sorted(scores, reverse=True)
    if k <= 0 or not ordered:
        return (ordered[0] if ordered else 0.0) + 1e-6
    return ordered[min(k, len(ordered)) - 1]


# -- 4. the accuracy-vs-escalation curve ---------------------------------------------------
def accuracy_escalating(order: Sequence[int], k: int, local: Sequence[bool],
                        cloud: Sequence[bool]) -> float:
    """Accuracy when the first ``k`` questions of ``order`` take the cloud's answer."""
    escalated = set(order[:k])
    right = sum(cloud[i] if i in escalated else local[i] for i in range(len(local)))
    return right / max(1, len(local))


def curve(scores: Sequence[float], local: Sequence[bool],
          cloud: Sequence[bool] | None = None) -> list[dict[str, float]]:
    """Rows per escalation share: the score router, random (expected) and oracle routers, with an
    always-right cloud and, given per-question ``cloud`` correctness, the real one."""
    n = len(local)
    by_score = sorted(range(n), key=lambda i: -scores[i])
    oracle_cloud = [True] * n
    acc_local = sum(local) / max(1, n)
    rows = []
    for share in CURVE_STEPS:
        k = round(share * n)
        row = {
            "share": k / max(1, n),
            "routed": accuracy_escalating(by_score, k, local, oracle_cloud),
            "random": (1 - share) * acc_local + share,
            "oracle": accuracy_escalating(_oracle_order(local, oracle_cloud), k, local,
                                          oracle_cloud),
        }
        if cloud is not None:
            acc_cloud = sum(cloud) / max(1, n)
            row["routed_real"] = accuracy_escalating(by_score, k, local, cloud)
            row["random_real"] = (1 - share) * acc_local + share * acc_cloud
            row["oracle_real"] = accuracy_escalating(_oracle_order(local, cloud), k, local, cloud)
        rows.append(row)
    return rows


def _oracle_order(local: Sequence[bool], cloud: Sequence[bool]) -> list[int]:
    """Gains first (local wrong, cloud right), losses (local right, cloud wrong) last."""
    return sorted(range(len(local)), key=lambda i: int(cloud[i]) * -1 + int(local[i]) * 1)


# -- fitting it all together ------------------------------------------------------------------
@dataclass
class Calibration:
    config: RouterConfig
    gate: dict[str, Gate]
    routable: list[Sample]
    oof_scores: list[float]
    share: float  # realised on the calibration questions
    declined: list[Sample]


def escalation_labels(samples: Sequence[Sample],
                      cloud_right: Mapping[str, bool] | None = None) -> np.ndarray:
    """1 where escalating is worth it: the local answer is wrong (and, when the cloud's own
    answers are known for every sample, the cloud's is right — RouteLLM's preference label;
    a question both get wrong is not worth a cloud call)."""
    if cloud_right is not None and all(s.id in cloud_right for s in samples):
        return np.array([1.0 if not s.right and cloud_right[s.id] else 0.0 for s in samples])
    return np.array([0.0 if s.right else 1.0 for s in samples])


def calibrate(samples: Sequence[Sample], target: float,
              base: RouterConfig | None = None,
              cloud_right: Mapping[str, bool] | None = None) -> Calibration:
    cfg = base or RouterConfig()
    gate: dict[str, Gate] = {}
    for language, dense_field, cov_field in (("en", "min_dense", "min_lexical_coverage"),
                                             ("ja", "min_dense_ja", "min_lexical_coverage_ja")):
        # unknown kanji compounds are a Japanese rule (see RuleRouter.before)
        cuts = UNKNOWN_CUTS if language == "ja" else (NO_UNKNOWN_RULE,)
        fitted = fit_gate([s for s in samples if s.language == language], cuts)
        if fitted is not None:
            fields: dict[str, Any] = {dense_field: round(fitted.min_dense, 6),
                                      cov_field: round(fitted.min_coverage, 6)}
            if language == "ja":
                fields["max_unknown_terms_ja"] = fitted.max_unknown_terms
            cfg = replace(cfg, **fields)
            gate[language] = fitted
    routable = [s for s in samples if not gated(cfg, s)]
    names = tuple(SCORE_FEATURES)
    free = [s for s in routable if not s.forced_cloud]
    x, y = features(free, names), escalation_labels(free, cloud_right)
    model = fit_logistic(x, y) if len(free) else Logistic(np.zeros(len(names)), 0.0)
    fitted_scores = model.probability(x).tolist() if len(free) else []
    forced = len(routable) - len(free)
    threshold = threshold_for(fitted_scores, forced, target)
    cfg = replace(cfg, score_features=names,
                  score_weights=tuple(round(float(w), 6) for w in model.weights),
                  score_bias=round(model.bias, 6), score_threshold=round(threshold, 6),
                  target_cloud_share=target)
    oof = out_of_fold(x, y).tolist() if len(free) >= 10 else fitted_scores
    scores = iter(oof)
    all_scores = [math.inf if s.forced_cloud else next(scores) for s in routable]
    share = (sum(sc >= threshold for sc in fitted_scores) + forced) / max(1, len(routable))
    return Calibration(cfg, gate, routable, all_scores, share,
                       [s for s in samples if gated(cfg, s)])


def gated(cfg: RouterConfig, s: Sample) -> bool:
    if not s.signals.get("hits"):
        return True
    ja = s.language == "ja"
    return declined(s, cfg.min_dense_ja if ja else cfg.min_dense,
                    cfg.min_lexical_coverage_ja if ja else cfg.min_lexical_coverage,
                    cfg.max_unknown_terms_ja if ja else NO_UNKNOWN_RULE)


# -- output ----------------------------------------------------------------------------------
def report(cal: Calibration, samples: Sequence[Sample],
           cloud_right: Mapping[str, bool] | None = None) -> str:
    lines = [f"questions: {len(samples)} ({sum(s.answerable for s in samples)} answerable, "
             f"{sum(not s.answerable for s in samples)} unanswerable); local right: "
             f"{sum(s.right for s in samples) / max(1, len(samples)):.3f}"]
    for language, g in cal.gate.items():
        unknown = (f" or with {g.max_unknown_terms}+ unknown terms"
                   if g.max_unknown_terms < NO_UNKNOWN_RULE else "")
        lines.append(f"gate {language}: decline when dense_top < {g.min_dense:.3f} and "
                     f"term_coverage < {g.min_coverage:.3f}{unknown} -> abstention on "
                     f"unanswerable {g.abstention:.2f}, false declines {g.false_declines:.3f}")
    cfg = cal.config
    lines.append(f"score threshold {cfg.score_threshold} for target {cfg.target_cloud_share:.0%}"
                 f" -> {cal.share:.1%} of {len(cal.routable)} routable questions escalated")
    lines.append("weights: " + ", ".join(
        f"{n}={w:+.3f}" for n, w in zip(cfg.score_features, cfg.score_weights, strict=True)))
    local = [s.right for s in cal.routable]
    cloud = None
    if cloud_right is not None and all(s.id in cloud_right for s in cal.routable):
        cloud = [cloud_right[s.id] for s in cal.routable]
    rows = curve(cal.oof_scores, local, cloud)
    lines.append("accuracy vs escalation share (routable questions, out-of-fold scores; "
                 "'oracle cloud' = every escalated answer right)")
    head = f"{'share':>6} {'routed':>7} {'random':>7} {'oracle':>7}"
    if cloud is not None:
        head += f"   {'routed*':>7} {'random*':>7} {'oracle*':>7}   (* real cloud answers)"
    lines.append(head)
    for r in rows:
        line = f"{r['share']:>6.0%} {r['routed']:>7.3f} {r['random']:>7.3f} {r['oracle']:>7.3f}"
        if cloud is not None:
            line += (f"   {r['routed_real']:>7.3f} {r['random_real']:>7.3f} "
                     f"{r['oracle_real']:>7.3f}")
        lines.append(line)
    return "\n".join(lines)


def load_cloud_results(path: Path | None) -> dict[str, bool] | None:
    """``{"id", "right"}`` lines from a cloud run (tests/bench/bench_routing.py writes them)."""
    if path is None:
        return None
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out[str(d["id"])] = bool(d["right"])
    return out


def save_samples(samples: Sequence[Sample], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for s in samples:
            fh.write(json.dumps(asdict(s), ensure_ascii=False, default=str) + "\n")


def load_samples(path: Path) -> list[Sample]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Sample(**json.loads(line)) for line in lines if line.strip()]
