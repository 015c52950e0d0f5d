"""`firstline router calibrate`: the fitting steps on known data, then the command end to end
with the real local model on a small set."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from bot.app.cli import main
from bot.evaluation.metrics import EvalQuestion
from bot.routing.calibration import (
    NO_UNKNOWN_RULE,
    UNKNOWN_CUTS,
    Sample,
    calibrate,
    curve,
    escalation_labels,
    fit_gate,
    fit_logistic,
    local_right,
    threshold_for,
)
from bot.routing.router import RouterConfig, RuleRouter

ROOT = Path(__file__).resolve().parents[2]


def sample(i: int, *, answerable: bool = True, right: bool = True, dense: float = 0.6,
           coverage: float = 0.9, mean: float = -0.2, language: str = "en") -> Sample:
    signals = {"hits": 5, "dense_top": dense, "term_coverage": coverage, "lexical_top": 5.0,
               "fused_gap": 0.1, "mean_logprob": mean, "min_logprob": mean * 5,
               "slm_covered": True, "slm_cited": 1, "citations_attributed": False}
    return Sample(f"q{i}", "set", language, answerable, signals, right, False)


def test_local_right_needs_the_gold_citation_and_the_answer() -> None:
    q = EvalQuestion("1", "梅雨明けの別名は？", True, "article-00.md", ("出梅",))
    assert local_right(q, True, ["article-00.md"], "梅雨明けは出梅といいます [1]。")
    assert not local_right(q, True, ["article-01.md"], "出梅 [1]")
    assert not local_right(q, True, ["article-00.md"], "わかりません")
    assert not local_right(q, False, [], "")
    unanswerable = EvalQuestion("2", "富士山の高さは？", False, None)
    assert local_right(unanswerable, False, [], "")
    assert not local_right(unanswerable, True, ["article-41.md"], "2,351メートル [1]")


def test_gate_declines_unanswerable_but_at_most_five_percent_of_answerable() -> None:
    rng = random.Random(1)
    good = [sample(i, dense=rng.uniform(0.3, 0.9), coverage=rng.uniform(0.4, 1.0))
            for i in range(100)]
    bad = [sample(100 + i, answerable=False, right=False, dense=rng.uniform(0.0, 0.4),
                  coverage=rng.uniform(0.0, 0.6)) for i in range(40)]
    gate = fit_gate(good + bad)
    assert gate is not None and gate.max_unknown_terms == NO_UNKNOWN_RULE  # not offered
    declined_good = sum(s.signals["dense_top"] < gate.min_dense and s.signals["term_coverage"]
                        < gate.min_coverage for s in good)
    assert declined_good <= 5 and gate.false_declines <= 0.05
    assert gate.abstention >= 0.5  # most unanswerable questions are caught
    assert fit_gate(good) is None  # nothing to learn without unanswerable questions


def test_gate_learns_the_unknown_terms_rule_when_it_pays() -> None:
    """Japanese questions about things no document mentions carry kanji compounds the index has
    never seen; the gate may decline on their count (strong evidence otherwise)."""
    rng = random.Random(2)
    good = [sample(i, language="ja") for i in range(100)]
    for i, s in enumerate(good):
        s.signals["unknown_terms"] = 2 if i < 3 else rng.choice([0, 0, 1])  # 3% have two
    bad = [sample(100 + i, answerable=False, right=False, language="ja") for i in range(20)]
    for i, s in enumerate(bad):
        s.signals["unknown_terms"] = 2 + i % 3
    gate = fit_gate(good + bad, UNKNOWN_CUTS)
    assert gate is not None and gate.max_unknown_terms == 2
    assert gate.abstention == 1.0 and gate.false_declines == 0.03
    cfg = calibrate(good + bad, 0.15).config
    assert cfg.max_unknown_terms_ja == 2 and len(calibrate(good + bad, 0.15).declined) == 23
    only_one = [sample(i, language="ja") for i in range(100)]  # one unknown term is common
    for s in only_one:
        s.signals["unknown_terms"] = 1
    assert (fit_gate(only_one + bad, UNKNOWN_CUTS) or gate).max_unknown_terms == 2


def test_logistic_regression_ranks_wrong_answers_first() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] - 0.5 * x[:, 1] + rng.normal(scale=0.3, size=200) > 0).astype(float)
    scores = fit_logistic(x, y).probability(x)
    assert ((scores > 0.5) == (y == 1)).mean() > 0.9


@pytest.mark.parametrize("target", [0.0, 0.1, 0.15, 0.25, 0.5])
def test_threshold_gives_the_target_share(target: float) -> None:
    scores = [i / 100 for i in range(100)]
    t = threshold_for(scores, forced=0, target=target)
    assert sum(s >= t for s in scores) == round(target * 100)
    # questions the rules escalate anyway count toward the share
    t = threshold_for(scores, forced=5, target=0.15)
    assert sum(s >= t for s in scores) + 5 == round(0.15 * 105)


def test_curve_is_bounded_by_the_oracle_and_ends_at_the_cloud() -> None:
    local = [True, False, True, False, False, True, True, True, False, True]
    cloud = [True, True, False, True, False, True, True, True, True, True]
    scores = [0.1, 0.9, 0.2, 0.8, 0.7, 0.3, 0.1, 0.2, 0.6, 0.1]  # perfectly ordered
    rows = curve(scores, local, cloud)
    assert rows[0]["routed"] == rows[0]["random"] == rows[0]["oracle"] == 0.6
    assert rows[-1]["routed"] == 1.0 and rows[-1]["routed_real"] == 0.8
    assert all(r["routed"] <= r["oracle"] + 1e-9 for r in rows)
    assert all(r["routed_real"] <= r["oracle_real"] + 1e-9 for r in rows)
    assert rows[4]["routed"] == 1.0  # the 4 wrong answers scored highest


def test_calibrate_writes_a_router_that_escalates_the_target_share(tmp_path: Path) -> None:
    rng = random.Random(3)
    samples = []
    for i in range(200):
        mean = rng.uniform(-1.0, 0.0)
        samples.append(sample(i, mean=mean, right=rng.random() < 0.2 + 0.8 * (1 + mean)))
    samples += [sample(300 + i, answerable=False, right=False, dense=0.1, coverage=0.1)
                for i in range(20)]
    cal = calibrate(samples, 0.15)
    assert cal.config.min_dense > 0.1 and cal.config.score_threshold is not None
    assert abs(cal.share - 0.15) < 0.01 and len(cal.declined) == 20
    cal.config.save(tmp_path / "router.json")
    router = RuleRouter(RouterConfig.load(tmp_path / "router.json"))
    ranked = sorted(samples[:200], key=lambda s: s.signals["mean_logprob"])
    low, high = ranked[0].signals, ranked[-1].signals
    score = router.config.cloud_score
    assert (score(low, "en") or 0.0) > (score(high, "en") or 0.0)


def test_with_cloud_results_the_score_learns_where_the_cloud_helps() -> None:
    """Questions both models get wrong are not worth escalating: with the cloud's answers known,
    the label is "local wrong and cloud right", and the score follows it."""
    rng = random.Random(5)
    samples, cloud_right = [], {}
    for i in range(300):
        hard = rng.random() < 0.5  # the local model is wrong on both kinds ...
        s = sample(i, right=False, dense=rng.uniform(0.4, 0.9))
        s.signals["retrievers_agree"] = hard  # ... but only on these does the cloud help
        samples.append(s)
        cloud_right[s.id] = hard
    assert escalation_labels(samples).tolist() == [1.0] * 300
    assert escalation_labels(samples, cloud_right).tolist() == [float(cloud_right[s.id])
                                                                for s in samples]
    partial = {k: v for k, v in list(cloud_right.items())[:10]}  # not every sample: ignored
    assert escalation_labels(samples, partial).tolist() == [1.0] * 300
    cfg = calibrate(samples, 0.3, cloud_right=cloud_right).config
    helped = [s for s in samples if cloud_right[s.id]]
    wasted = [s for s in samples if not cloud_right[s.id]]
    assert min(cfg.cloud_score(s.signals, "en") or 0.0 for s in helped) > max(
        cfg.cloud_score(s.signals, "en") or 0.0 for s in wasted)


@pytest.mark.slm
def test_calibrate_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch, slm_path: Path) -> None:
    """The real command on a small set: the IT part of the sample KB and its questions, plus
    three unanswerable ones; the written file drives a working router."""
    set_dir = tmp_path / "it-set"
    (set_dir / "corpus").mkdir(parents=True)
    for name in ("vpn-password-reset.md", "wifi-networks.txt", "password-policy.pdf"):
        (set_dir / "corpus" / name).write_bytes((ROOT / "knowledge/samples/it" / name).read_bytes())
    gold = {"en-01": "vpn-password-reset.md", "en-02": "wifi-networks.txt",
            "en-03": "password-policy.pdf"}
    rows = [json.loads(line) for line in (ROOT / "knowledge/samples/_build/questions.jsonl")
            .read_text(encoding="utf-8").splitlines() if line]
    with (set_dir / "questions.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            if r["id"] in gold:
                fh.write(json.dumps({**r, "gold": gold[r["id"]], "answers": []}) + "\n")
    unanswerable = tmp_path / "un.jsonl"
    unanswerable.write_text("\n".join((ROOT / "tests/eval/unanswerable-en.jsonl")
                                      .read_text().splitlines()[:3]) + "\n")
    # a cloud run's verdicts on the same questions: the score learns where the cloud helps
    cloud_results = tmp_path / "cloud.jsonl"
    cloud_results.write_text("".join(json.dumps({"id": i, "right": i == "en-02"}) + "\n" for i in
                                     [*gold, "un-en-01", "un-en-02", "un-en-03"]))
    out = tmp_path / "router.json"
    monkeypatch.setenv("FIRSTLINE_SLM_MODEL", str(slm_path))
    code = main(["router", "calibrate", str(set_dir), "--target", "0.25", "--unanswerable",
                 str(unanswerable), "--out", str(out), "--data-dir", str(tmp_path / "data"),
                 "--cloud-results", str(cloud_results)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "accuracy vs escalation share" in printed and "gate en" in printed
    assert "(* real cloud answers)" in printed
    cfg = RouterConfig.load(out)
    assert cfg.target_cloud_share == 0.25 and cfg.score_threshold is not None
    assert len(cfg.score_weights) == len(cfg.score_features) > 0
    samples = [json.loads(line) for line in
               (tmp_path / "router.samples.jsonl").read_text().splitlines()]
    assert len(samples) == 6 and sum(not s["answerable"] for s in samples) == 3
    score = cfg.cloud_score(samples[0]["signals"], "en")
    assert score is not None and 0.0 <= score <= 1.0
