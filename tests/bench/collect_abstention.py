"""Collect abstention samples: the real core (the real GGUF, no cloud, the shipped rules router,
the abstention model off so that it decides nothing) answers one fold of the hard sets' questions;
one JSON line per answer with its signals (``verify_yes`` included) and its label.

    python tests/bench/collect_abstention.py /work/hard-sets --fold 0 --per-set 40 \\
        --out samples.jsonl [--sets helpdesk-en,...] [--data-dir DIR] [--slm-model PATH] \\
        [--router-config router.json]
    firstline router abstention --samples samples.jsonl --out bot/routing/abstention.json

``right``: answerable, covered and citing a gold document (what ``confident`` promises);
``plain_top``: the plain dense baseline's first file (the baseline bench_verify prints).
Each set's corpus is indexed once into DATA_DIR/abstention-SET (incremental on a rerun).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import load_average

from bot.app.composition import isolated_firstline
from bot.app.evaluate import baseline_results, evaluate
from bot.evaluation.metrics import EvalResult, load_questions
from bot.language import detect_language
from bot.settings import Settings

SETS = ("helpdesk-en", "helpdesk-ja", "jsquad-ref", "pyfaq-ref")
log = logging.getLogger("collect_abstention")


def row(set_name: str, r: EvalResult, plain_top: str | None) -> dict[str, Any]:
    q = r.question
    right = q.answerable and r.covered and any(g in r.cited for g in q.golds)
    return {"id": q.id, "set": set_name, "kind": q.kind, "fold": q.fold,
            "language": q.language or detect_language(q.question),
            "answerable": q.answerable, "golds": list(q.golds), "covered": r.covered,
            "confident": r.confident, "cited": r.cited, "right": right, "route": r.route,
            "reason": r.reason, "latency_ms": r.latency_ms, "ranked": r.ranked_paths[:5],
            "plain_top": plain_top, "signals": r.signals}


def collect_set(set_dir: Path, settings: Settings, fold: int, per_set: int) -> list[dict[str, Any]]:
    questions = load_questions(set_dir / "questions.jsonl", per_set, fold=fold)
    core = isolated_firstline(settings, f"abstention-{set_dir.name}", fresh=False)
    started = time.perf_counter()
    summary = core.indexing.index([set_dir / "corpus"])
    log.warning("%s: %s in %.0f s", set_dir.name, summary.line(), time.perf_counter() - started)
    plain = baseline_results(core, set_dir / "corpus", questions)
    try:
        asyncio.run(evaluate(core, questions[:1], True))  # warm the model and its prompt cache
        results = asyncio.run(evaluate(core, questions, True))
    finally:
        asyncio.run(core.aclose())
    return [row(set_dir.name, r, (p.ranked_paths or [None])[0])
            for r, p in zip(results, plain, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets_dir", type=Path)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--fold", type=int, choices=(0, 1), required=True)
    parser.add_argument("--per-set", type=int, default=40, help="questions per set (0: all)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--slm-model", default="")
    parser.add_argument("--router-config", default="",
                        help="a router JSON (FIRSTLINE_ROUTER_CONFIG; default the built-in rules)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fl-abstention-"))
    settings = Settings.load({"data_dir": data_dir, "slm_model": args.slm_model,
                              "abstention_config": "off",
                              "router_config": args.router_config}, environ={},
                             config_file=data_dir / "no-firstline.toml")
    print(f"load average before: {load_average()}")
    with args.out.open("w", encoding="utf-8") as fh:
        for name in args.sets.split(","):
            rows = collect_set(args.sets_dir / name, settings, args.fold, args.per_set)
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            fh.flush()
            print(f"{name}: {len(rows)} answers, {sum(r['right'] for r in rows)} right, "
                  f"{sum('verify_yes' in r['signals'] for r in rows)} verified")
    print(f"load average after: {load_average()}; wrote {args.out}")


if __name__ == "__main__":
    main()
