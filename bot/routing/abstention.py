"""Calibrated abstention: the probability that a local answer is right, and the line below which
it is not shown as confident.

``p_right`` is a logistic regression (:mod:`bot.routing.logistic`) over signals that mean the
same on any knowledge base: the verification pass's P(yes) (:mod:`bot.answering.verify`), how much
of the answer's new content the passage supports, whether it only echoes the question, the margin
of the best document over the second, the question's terms found, the retrievers' top scores,
the SLM's token confidence and the language. "Right" is what ``confident`` promises: the question
is answerable and the answer cites its document.

The threshold is chosen on the fitting data (out-of-fold probabilities) for the most unanswerable
questions declined while the abstention declines at most ``max_wrongly_declined`` of the
answerable ones (beyond those the earlier steps — weak evidence, "not covered" — decline).
``firstline router abstention`` fits it from evaluation samples or from a ledger's rated answers
and writes the JSON that ``FIRSTLINE_ABSTENTION_CONFIG`` loads (default: the shipped
``abstention.json`` beside this module; ``off``: no abstention).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import UserFacingError
from bot.routing import logistic

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).with_name("abstention.json")
OFF = "off"
MAX_WRONGLY_DECLINED = 0.10
MIN_ROWS = 20
VERIFY_FEATURE = "verify_logit"
Feature = Callable[[Mapping[str, Any], str], float]


def _number(key: str, default: float = 0.0) -> Feature:
    def get(s: Mapping[str, Any], _language: str) -> float:
        value = s.get(key)
        return float(value) if isinstance(value, int | float) else default

    return get


def _log1p(key: str) -> Feature:
    return lambda s, lang: math.log1p(max(0.0, _number(key)(s, lang)))


def _flag(key: str) -> Feature:
    return lambda s, _lang: 1.0 if s.get(key) else 0.0


def _verify_logit(s: Mapping[str, Any], _language: str) -> float:
    p = _number("verify_yes", 0.5)(s, _language)
    p = min(1 - 1e-4, max(1e-4, p))
    return math.log(p / (1 - p))


FEATURES: dict[str, Feature] = {
    "verify_logit": _verify_logit,
    "answer_support": _number("answer_support"),
    "answer_echo": _number("answer_echo", 1.0),
    "log_new_terms": _log1p("answer_new_terms"),
    "fused_gap": _number("fused_gap"),
    "dense_top": _number("dense_top"),
    "dense_gap": _number("dense_gap"),
    "multilingual_top": _number("multilingual_top"),
    "multilingual_gap": _number("multilingual_gap"),
    "term_coverage": _number("term_coverage"),
    "log_lexical_top": _log1p("lexical_top"),
    "retrievers_agree": _flag("retrievers_agree"),
    "mean_logprob": _number("mean_logprob", -1.0),
    "citations_attributed": _flag("citations_attributed"),
    "japanese": lambda _s, lang: 1.0 if lang == "ja" else 0.0,
}

# What a fit uses by default (the others stay loadable for a company's own fit, `--features`).
# Not verify_logit: with the 0.5B model its P(yes) was worse than chance on held-out fold 1 of
# the hard sets (AUC 0.45) and a fit without it did as well there (3 of 52 answers judged
# differently), while it costs a model call per answer; a refit with a larger model may add it.
DEFAULT_FEATURES = ("term_coverage", "fused_gap", "multilingual_top", "multilingual_gap",
                    "answer_support", "mean_logprob", "japanese")


def select_features(features: str | None = None, drop: str = "") -> tuple[str, ...]:
    """The feature names a fit uses: ``features`` (comma-separated; default
    :data:`DEFAULT_FEATURES`) without those in ``drop``; :class:`UserFacingError` naming an
    unknown one."""
    chosen = _names(features) if features else DEFAULT_FEATURES
    dropped = _names(drop)
    unknown = [n for n in (*chosen, *dropped) if n not in FEATURES]
    if unknown:
        raise UserFacingError(f"unknown abstention feature(s) {', '.join(unknown)}; known: "
                              f"{', '.join(FEATURES)}")
    names = tuple(n for n in chosen if n not in dropped)
    if not names:
        raise UserFacingError("no abstention features left to fit on; give --features")
    return names


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


@dataclass(frozen=True)
class Abstention:
    """A fitted p_right model and its threshold."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted: dict[str, Any] = field(default_factory=dict)  # what it was fitted on, its figures

    @property
    def uses_verification(self) -> bool:
        """Whether p_right reads the verification pass's P(yes) (else the pass is skipped)."""
        return VERIFY_FEATURE in self.features

    def p_right(self, signals: Mapping[str, Any], language: str) -> float:
        z = self.bias + sum(w * FEATURES[n](signals, language)
                            for n, w in zip(self.features, self.weights, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def confident(self, signals: Mapping[str, Any], language: str) -> bool:
        return self.p_right(signals, language) >= self.threshold

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Abstention:
        """Read a fitted file; :class:`UserFacingError` (one line, naming it) when it is not."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            model = cls(tuple(data["features"]), tuple(float(w) for w in data["weights"]),
                        float(data["bias"]), float(data["threshold"]), dict(data.get("fitted", {})))
            unknown = [n for n in model.features if n not in FEATURES]
            if unknown or len(model.weights) != len(model.features):
                raise ValueError(f"unknown features {unknown}" if unknown else
                                 "features and weights differ in number")
        except OSError as exc:
            raise UserFacingError(f"abstention config {path}: cannot read it ({exc.strerror})"
                                  ) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
            raise UserFacingError(f"abstention config {path} is not a fitted abstention file "
                                  f"({detail}); refit it with `firstline router abstention` or "
                                  f"set FIRSTLINE_ABSTENTION_CONFIG=off") from None
        return model


def abstention_from_setting(value: str) -> Abstention | None:
    """``FIRSTLINE_ABSTENTION_CONFIG``: empty: the shipped file; ``off``: none; else a path."""
    if value.strip().lower() == OFF:
        return None
    if not value.strip() and not SHIPPED.is_file():
        log.warning("no shipped abstention model at %s: answers are judged by rules only", SHIPPED)
        return None
    return Abstention.load(Path(value).expanduser() if value.strip() else SHIPPED)


# -- fitting ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One answer for fitting: its signals, whether the answer path had already declined it
    (``covered`` false), whether the abstention can judge it (the verification pass ran), whether
    it should be answered (``keep``: answerable, or rated 👍) and whether it was right. Judged:
    covered and the verification pass ran, or was skipped because the model in use ignores it."""

    id: str
    language: str
    signals: dict[str, Any]
    covered: bool
    keep: bool
    right: bool
    confident: bool = False  # shown as confident before the abstention (evaluate.confident)

    @property
    def scored(self) -> bool:
        return self.covered and judged(self.signals)

    @property
    def verified(self) -> bool:
        return "verify_yes" in self.signals


def judged(signals: Mapping[str, Any]) -> bool:
    """The answer reached the abstention judgement: its pass ran, or was skipped by design."""
    return "verify_yes" in signals or bool(signals.get("verify_skipped"))


def matrix(rows: Sequence[Row], names: Sequence[str] = tuple(FEATURES)) -> np.ndarray:
    return np.array([[FEATURES[n](r.signals, r.language) for n in names] for r in rows],
                    dtype=np.float64).reshape(len(rows), len(names))


@dataclass(frozen=True)
class Effect:
    """What a threshold does to a set of rows."""

    threshold: float
    handled: float  # of the rows not to keep, the share declined
    wrongly_declined: float  # of the rows to keep, the share declined
    confident_precision: float | None  # of the rows still shown as confident, the share right
    confident: int


def effect(rows: Sequence[Row], p: Sequence[float], threshold: float) -> Effect:
    """Declined: already (not covered), or scored with p_right below ``threshold``."""
    declined, shown = [], []
    for r, v in zip(rows, p, strict=True):
        low = r.scored and v < threshold
        declined.append(not r.covered or low)
        shown.append(r.confident and not low)
    keep = [r.keep for r in rows]
    bad = [d for d, k in zip(declined, keep, strict=True) if not k]
    good = [d for d, k in zip(declined, keep, strict=True) if k]
    right = [r.right for r, s in zip(rows, shown, strict=True) if s]
    return Effect(threshold, sum(bad) / len(bad) if bad else 0.0,
                  sum(good) / len(good) if good else 0.0,
                  sum(right) / len(right) if right else None, len(right))


def choose_threshold(rows: Sequence[Row], p: Sequence[float],
                     max_wrongly_declined: float = MAX_WRONGLY_DECLINED) -> Effect:
    """The threshold that declines the most rows not to keep while declining at most
    ``max_wrongly_declined`` of the rows to keep on top of what the earlier steps already
    declined (the rules' own false declines — a follow-up with weak evidence — are not the
    abstention's to spend: on some sets they alone pass 0.10); the lowest such threshold."""
    scored = sorted({round(float(v), 6) for r, v in zip(rows, p, strict=True) if r.scored})
    candidates = [0.0, *((a + b) / 2 for a, b in zip(scored, scored[1:], strict=False)),
                  *([scored[-1] + 1e-6] if scored else [])]
    best = base = effect(rows, p, 0.0)
    for t in candidates:
        e = effect(rows, p, t)
        added = e.wrongly_declined - base.wrongly_declined
        if added <= max_wrongly_declined + 1e-12 and e.handled > best.handled:
            best = e
    return best


def fit_abstention(rows: Sequence[Row], *, max_wrongly_declined: float = MAX_WRONGLY_DECLINED,
                   l2: float = 5.0, source: str = "",
                   names: Sequence[str] = DEFAULT_FEATURES) -> Abstention:
    """Weights from every scored row (label: right); the threshold from out-of-fold p_right.
    A fit that reads the verification pass leaves out the rows whose pass was skipped."""
    names = tuple(names)
    unverified = [r for r in rows if r.scored and not r.verified]
    if VERIFY_FEATURE in names:
        rows = [r for r in rows if not (r.scored and not r.verified)]
    scored = [r for r in rows if r.scored]
    labels = np.array([1.0 if r.right else 0.0 for r in scored])
    if len(scored) < MIN_ROWS or labels.all() or not labels.any():
        raise UserFacingError(
            f"need at least {MIN_ROWS} verified local answers, both right and wrong ones, to fit "
            f"the abstention model; found {len(scored)} ({int(labels.sum())} right)"
            + (f", {len(unverified)} more whose verification pass was skipped: fit without it "
               f"(--drop {VERIFY_FEATURE})" if VERIFY_FEATURE in names and unverified else ""))
    x = matrix(scored, names)
    model = logistic.fit(x, labels, l2=l2)
    oof = iter(logistic.out_of_fold(x, labels, l2=l2).tolist())
    p = [next(oof) if r.scored else 1.0 for r in rows]
    chosen = choose_threshold(rows, p, max_wrongly_declined)
    before = effect(rows, p, 0.0)
    fitted = {"source": source, "rows": len(rows), "scored": len(scored),
              "right": int(labels.sum()), "max_wrongly_declined": max_wrongly_declined,
              **({"left_out_unverified": len(unverified)}
                 if VERIFY_FEATURE in names and unverified else {}),
              "out_of_fold": {"before": asdict(before), "after": asdict(chosen)}}
    return Abstention(names, tuple(round(float(w), 6) for w in model.weights),
                      round(model.bias, 6), round(chosen.threshold, 6), fitted)


def report(model: Abstention) -> str:
    """What a fit did on its own data (out-of-fold, so each row was judged by a model fitted
    without it)."""
    f = model.fitted
    oof = f.get("out_of_fold", {})
    left_out = f.get("left_out_unverified")
    lines = [f"fitted on {f.get('rows')} answers ({f.get('scored')} judged, "
             f"{f.get('right')} of those right) from {f.get('source') or 'samples'}"
             + (f"; {left_out} left out (their verification pass was skipped)" if left_out
                else ""),
             f"threshold p_right < {model.threshold:.4f} -> not confident",
             f"{'(out-of-fold)':<22} {'handled':>8} {'wrongly declined':>17} "
             f"{'confident precision':>20}"]
    for label in ("before", "after"):
        e = oof.get(label)
        if e:
            precision = "-" if e["confident_precision"] is None else \
                f"{e['confident_precision']:.3f}"
            lines.append(f"{label:<22} {e['handled']:>8.3f} {e['wrongly_declined']:>17.3f} "
                         f"{precision:>20}")
    lines.append("weights: " + ", ".join(
        f"{n}={w:+.3f}" for n, w in zip(model.features, model.weights, strict=True)))
    return "\n".join(lines)
