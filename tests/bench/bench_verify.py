"""Calibrated abstention against the rules-only router and the plain dense baseline, on the fold
the abstention model was not fitted on, and the verification pass's cost beside the answer's.

    python tests/bench/collect_abstention.py /work/hard-sets --fold 1 --per-set 40 --out f1.jsonl
    python tests/bench/bench_verify.py f1.jsonl [--config bot/routing/abstention.json] \\
        [--config other.json ...]

The fold-1 answers are collected once with the abstention off (the verification pass still runs
and its P(yes) is recorded). *rules-only* is what those answers were; *calibrated* is the same
answers with the model applied as :class:`bot.answering.verify.Verify` applies it without a
cloud: a verified answer whose p_right is below the threshold is declined. (The pass is greedy
and deterministic, so this is what the pipeline with the model on answers; tests/bot/
test_verify.py checks the wiring end to end.) *plain dense* answers every question from its
first file: it declines nothing, and its confident precision is the share of all questions whose
first file is a gold one. Several ``--config`` files are each applied to the same answers (e.g. a
fit with and without ``verify_logit``); counts in brackets; then the AUC of p_right and of every
feature alone among the verified answers, right against wrong.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from _common import percentile

from bot.app.abstention import sample_rows
from bot.routing.abstention import FEATURES, SHIPPED, Abstention, Effect, Row, effect


def plain(rows: list[dict[str, Any]]) -> Effect:
    right = sum(r["answerable"] and r["plain_top"] in r["golds"] for r in rows)
    return Effect(0.0, 0.0, 0.0, right / len(rows) if rows else None, len(rows))


def rules(rows: list[Row]) -> Effect:
    return effect(rows, [1.0] * len(rows), 0.0)


def calibrated(rows: list[Row], model: Abstention) -> Effect:
    return effect(rows, [model.p_right(r.signals, r.language) for r in rows], model.threshold)


def line(label: str, e: Effect, keep: int, drop: int) -> str:
    precision = "-" if e.confident_precision is None else f"{e.confident_precision:.3f}"
    right = "" if e.confident_precision is None else \
        f" ({round(e.confident_precision * e.confident)}/{e.confident})"
    return (f"  {label:<14} {e.handled:>6.3f} ({round(e.handled * drop)}/{drop})"
            f" {e.wrongly_declined:>9.3f} ({round(e.wrongly_declined * keep)}/{keep})"
            f" {precision:>9}{right}")


def cost(raw: list[dict[str, Any]]) -> str:
    verified = [r["signals"] for r in raw if "verify_ms" in r["signals"]]
    if not verified:
        return "  no verification pass ran"
    check = [float(s["verify_ms"]) for s in verified]
    answer = [float(s.get("slm_prompt_ms", 0)) + float(s.get("slm_generation_ms", 0))
              for s in verified]
    total = [float(r["latency_ms"]) for r in raw if "verify_ms" in r["signals"]]
    return (f"  verification pass ms p50 {percentile(check, 0.5):.0f} p95 "
            f"{percentile(check, 0.95):.0f} | the answer's SLM ms p50 "
            f"{percentile(answer, 0.5):.0f} p95 {percentile(answer, 0.95):.0f} | whole answer "
            f"ms p50 {percentile(total, 0.5):.0f} p95 {percentile(total, 0.95):.0f} "
            f"({len(verified)} verified answers)")


def auc(scores: list[float], labels: list[bool]) -> float | None:
    """P(a right answer scores above a wrong one); 0.5 is no better than chance."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def separation(rows: list[Row], models: dict[str, Abstention], every: bool) -> str:
    """AUC of each model's p_right and (``every``) of each feature alone, right vs wrong."""
    scored = [r for r in rows if r.scored]
    labels = [r.right for r in scored]
    values = {f"p_right {name}": [m.p_right(r.signals, r.language) for r in scored]
              for name, m in models.items()}
    names = FEATURES if every else ("verify_logit",)
    values.update({n: [FEATURES[n](r.signals, r.language) for r in scored] for n in names})
    parts = []
    for label, v in values.items():
        a = auc(v, labels)
        parts.append(f"{label} {'-' if a is None else f'{a:.3f}'}")
    return (f"  AUC, right vs wrong among {len(scored)} verified answers ({sum(labels)} right):"
            "\n    " + "\n    ".join(", ".join(parts[i:i + 4]) for i in range(0, len(parts), 4)))


def show(name: str, raw: list[dict[str, Any]], rows: list[Row],
         models: dict[str, Abstention], every: bool = False) -> None:
    keep = sum(r.keep for r in rows)
    drop = len(rows) - keep
    print(f"\n== {name}: {len(rows)} questions ({keep} answerable, "
          f"{drop} unanswerable), fold {sorted({r['fold'] for r in raw})}")
    print(f"  {'':<14} {'handled':>14} {'wrongly declined':>17} {'confident precision':>20}")
    print(line("plain dense", plain(raw), keep, drop))
    print(line("rules-only", rules(rows), keep, drop))
    for label, model in models.items():
        print(line(label, calibrated(rows, model), keep, drop))
    print(separation(rows, models, every))
    print(cost(raw))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("samples", type=Path, help="fold-1 answers (collect_abstention.py)")
    parser.add_argument("--config", type=Path, action="append",
                        help="an abstention JSON (repeatable; default the shipped one)")
    args = parser.parse_args()
    paths: list[Path] = args.config or [SHIPPED]
    models = {p.stem if len(paths) > 1 else "calibrated": Abstention.load(p) for p in paths}
    raw = [json.loads(x) for x in args.samples.read_text(encoding="utf-8").splitlines()
           if x.strip()]
    if any(r.get("fold") == 0 for r in raw):
        print("WARNING: these samples include fold 0, which the shipped model was fitted on")
    rows = sample_rows(args.samples)
    for path, (label, model) in zip(paths, models.items(), strict=True):
        print(f"{label}: {path}, threshold {model.threshold}, features "
              f"{', '.join(model.features)}; fitted on {model.fitted.get('source', '?')}")
    by_set: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(raw):
        by_set[r["set"]].append(i)
    for name, idx in by_set.items():
        show(name, [raw[i] for i in idx], [rows[i] for i in idx], models)
    show("all sets", raw, rows, models, every=True)


if __name__ == "__main__":
    main()
