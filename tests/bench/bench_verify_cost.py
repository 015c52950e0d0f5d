"""What skipping the verification pass saves: the same questions answered in one process, warm,
with an abstention model that reads the pass (``--with``) and one that does not (``--without``,
the pass skipped), whole passes over the questions in ABBA order so that neither side gets the
warmer machine or llama.cpp's prompt cache.

    python tests/bench/bench_verify_cost.py /work/hard-sets/helpdesk-en --with A.json \\
        [--without bot/routing/abstention.json] [--fold 1] [--limit 20] [--data-dir DIR]

Only the Verify step's abstention model differs between the two sides (swapped on the same
core). The set's corpus is indexed into DATA_DIR/abstention-SET (incremental on a rerun, so
``collect_abstention.py``'s index is reused with the same ``--data-dir``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
from pathlib import Path

from _common import describe, load_average

from bot.answering.responder import Firstline
from bot.answering.verify import Verify
from bot.app.composition import isolated_firstline
from bot.app.evaluate import evaluate
from bot.evaluation.metrics import EvalQuestion, load_questions
from bot.routing.abstention import SHIPPED, Abstention
from bot.settings import Settings


def verify_step(core: Firstline) -> Verify:
    return next(s for s in core.pipeline.steps if isinstance(s, Verify))


async def one_pass(core: Firstline, questions: list[EvalQuestion],
                   model: Abstention) -> list[tuple[float, bool]]:
    """(whole answer ms, whether the draft reached Verify) per question."""
    verify_step(core).abstention = model
    results = await evaluate(core, questions, True)
    return [(r.latency_ms, "dense_gap" in r.signals) for r in results]


async def bench(core: Firstline, questions: list[EvalQuestion], a: Abstention,
                b: Abstention) -> dict[str, list[list[tuple[float, bool]]]]:
    await one_pass(core, questions[:1], a)  # warm the model and its prompt cache
    runs: dict[str, list[list[tuple[float, bool]]]] = {"with": [], "without": []}
    for label in ("with", "without", "without", "with"):
        runs[label].append(await one_pass(core, questions, a if label == "with" else b))
    return runs


def report(runs: dict[str, list[list[tuple[float, bool]]]]) -> None:
    reached = [i for i, (_, hit) in enumerate(runs["with"][0]) if hit]
    for label, passes in runs.items():
        every = [ms for p in passes for ms, _ in p]
        judged = [p[i][0] for p in passes for i in reached]
        print(f"  {label + ' pass':<13} all answers {describe(every)} ms | the {len(reached)} "
              f"reaching Verify {describe(judged)} ms")
    diffs = [statistics.fmean(p[i][0] for p in runs["with"])
             - statistics.fmean(p[i][0] for p in runs["without"]) for i in reached]
    if diffs:
        print(f"  saved per answer reaching Verify (paired, mean of 2 runs each): median "
              f"{statistics.median(diffs):.0f} ms, mean {statistics.fmean(diffs):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set_dir", type=Path)
    parser.add_argument("--with", dest="with_pass", type=Path, required=True,
                        help="an abstention JSON whose features include verify_logit")
    parser.add_argument("--without", type=Path, default=SHIPPED)
    parser.add_argument("--fold", type=int, default=1)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--slm-model", default="")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    a, b = Abstention.load(args.with_pass), Abstention.load(args.without)
    if not a.uses_verification or b.uses_verification:
        parser.error("--with must read verify_logit and --without must not")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fl-verify-cost-"))
    settings = Settings.load({"data_dir": data_dir, "slm_model": args.slm_model}, environ={},
                             config_file=data_dir / "no-firstline.toml")
    questions = load_questions(args.set_dir / "questions.jsonl", args.limit, fold=args.fold)
    core = isolated_firstline(settings, f"abstention-{args.set_dir.name}", fresh=False)
    core.indexing.index([args.set_dir / "corpus"])
    print(f"{args.set_dir.name} fold {args.fold}: {len(questions)} questions, 2 runs each side "
          f"(ABBA); load average before: {load_average()}")
    try:
        runs = asyncio.run(bench(core, questions, a, b))
    finally:
        asyncio.run(core.aclose())
    report(runs)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
