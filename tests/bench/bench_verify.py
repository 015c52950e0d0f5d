"""Calibrated abstention against the rules-only router and the plain dense baseline, on the fold
the abstention model was not fitted on, and the verification pass's cost beside the answer's.

    python tests/bench/collect_abstention.py /work/hard-sets --fold 1 --per-set 40 --out f1.jsonl
    python tests/bench/bench_verify.py f1.jsonl [--config bot/routing/abstention.json]

The fold-1 answers are collected once with the abstention off (the verification pass still runs
and its P(yes) is recorded). *rules-only* is what those answers were; *calibrated* is the same
answers with the model applied as :class:`bot.answering.verify.Verify` applies it without a
cloud: a verified answer whose p_right is below the threshold is declined. (The pass is greedy
and deterministic, so this is what the pipeline with the model on answers; tests/bot/
test_verify.py checks the wiring end to end.) *plain dense* answers every question from its
first file: it declines nothing, and its confident precision is the share of all questions whose
first file is a gold one.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from _common import percentile

from bot.app.abstention import sample_rows
from bot.routing.abstention import SHIPPED, Abstention, Effect, Row, effect


def plain(rows: list[dict[str, Any]]) -> Effect:
    right = sum(r["answerable"] and r["plain_top"] in r["golds"] for r in rows)
    return Effect(0.0, 0.0, 0.0, right / len(rows) if rows else None, len(rows))


def rules(rows: list[Row]) -> Effect:
    return effect(rows, [1.0] * len(rows), 0.0)


def calibrated(rows: list[Row], model: Abstention) -> Effect:
    return effect(rows, [model.p_right(r.signals, r.language) for r in rows], model.threshold)


def line(label: str, e: Effect) -> str:
    precision = "-" if e.confident_precision is None else f"{e.confident_precision:.3f}"
    return f"  {label:<12} {e.handled:>8.3f} {e.wrongly_declined:>17.3f} {precision:>20}"


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


def separation(rows: list[Row], model: Abstention) -> str:
    scored = [r for r in rows if r.scored]
    labels = [r.right for r in scored]
    parts = []
    for label, values in (
            ("verify_yes", [float(r.signals["verify_yes"]) for r in scored]),
            ("p_right", [model.p_right(r.signals, r.language) for r in scored])):
        a = auc(values, labels)
        parts.append(f"{label} AUC {'-' if a is None else f'{a:.3f}'}")
    return (f"  right vs wrong among {len(scored)} verified answers "
            f"({sum(labels)} right): " + ", ".join(parts))


def show(name: str, raw: list[dict[str, Any]], rows: list[Row], model: Abstention) -> None:
    answerable = sum(r.keep for r in rows)
    print(f"\n== {name}: {len(rows)} questions ({answerable} answerable, "
          f"{len(rows) - answerable} unanswerable), fold {sorted({r['fold'] for r in raw})}")
    print(f"  {'':<12} {'handled':>8} {'wrongly declined':>17} {'confident precision':>20}")
    print(line("plain dense", plain(raw)))
    print(line("rules-only", rules(rows)))
    print(line("calibrated", calibrated(rows, model)))
    print(separation(rows, model))
    print(cost(raw))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("samples", type=Path, help="fold-1 answers (collect_abstention.py)")
    parser.add_argument("--config", type=Path, default=SHIPPED)
    args = parser.parse_args()
    model = Abstention.load(args.config)
    raw = [json.loads(x) for x in args.samples.read_text(encoding="utf-8").splitlines()
           if x.strip()]
    if any(r.get("fold") == 0 for r in raw):
        print("WARNING: these samples include fold 0, which the shipped model was fitted on")
    rows = sample_rows(args.samples)
    print(f"abstention model {args.config}: threshold {model.threshold}, fitted on "
          f"{model.fitted.get('source', '?')}")
    by_set: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(raw):
        by_set[r["set"]].append(i)
    for name, idx in by_set.items():
        show(name, [raw[i] for i in idx], [rows[i] for i in idx], model)
    show("all sets", raw, rows, model)


if __name__ == "__main__":
    main()
