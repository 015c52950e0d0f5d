"""`firstline router calibrate SET_DIR ... --target 0.15`: step 1 of the recipe in
:mod:`bot.routing.calibration` (answer every question with the local pipeline and keep its
signals), then the fit, the JSON for ``FIRSTLINE_ROUTER_CONFIG`` and the report."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from bot.answering.responder import Firstline
from bot.app.composition import isolated_firstline
from bot.errors import UserFacingError
from bot.evaluation.metrics import EvalQuestion
from bot.models.base import ChatModel
from bot.routing.calibration import (
    OPEN_GATE,
    RULE_CLOUD_REASONS,
    Sample,
    calibrate,
    load_cloud_results,
    local_right,
    questions_for,
    report,
    save_samples,
)
from bot.routing.router import Router, RouterConfig, RuleRouter
from bot.settings import Settings
from bot.types import Question

log = logging.getLogger(__name__)


def open_gate_config(settings: Settings) -> RouterConfig:
    """The configured router thresholds with the evidence gate open and no score: every
    question reaches the local model, so the gate and the score can be fitted afterwards."""
    return replace(RouterConfig.load(settings.router_config or None), **OPEN_GATE,
                   score_threshold=None)


def local_core(settings: Settings, set_dir: Path, *, router: Router | None = None,
               cloud: ChatModel | None = None) -> Firstline:
    """A core over the set's corpus: no cloud and an open evidence gate unless given."""
    core = isolated_firstline(settings, f"calibrate-{set_dir.resolve().name}", fresh=False,
                              cloud=cloud, collection="calibrate",
                              router=router or RuleRouter(open_gate_config(settings)))
    summary = core.indexing.index([set_dir / "corpus"])
    log.info("indexed %s: %s", set_dir, summary.line())
    return core


async def collect(core: Firstline, set_name: str,
                  questions: Iterable[EvalQuestion]) -> list[Sample]:
    """Answer every question locally; one :class:`Sample` each."""
    samples = []
    for q in questions:
        reply = await core.handle(Question(q.question, user="calibrate", channel="eval", id=q.id))
        seconds = reply.latency_ms / 1000  # on-prem time of the answer (retrieval + SLM)
        samples.append(Sample(
            q.id, set_name, reply.language, q.answerable, dict(reply.signals),
            local_right(q, reply.covered, reply.cited, reply.text),
            reply.reason in RULE_CLOUD_REASONS, reply.covered, list(reply.cited), reply.text,
            reply.reason, seconds, dict(reply.tokens)))
        log.info("%s %s right=%s reason=%s", set_name, q.id, samples[-1].right, reply.reason)
    return samples


async def collect_sets(settings: Settings, set_dirs: Sequence[Path], limit: int,
                       unanswerable: Sequence[Path]) -> list[Sample]:
    samples: list[Sample] = []
    for set_dir in set_dirs:
        core = await asyncio.to_thread(local_core, settings, set_dir)
        try:
            questions = questions_for(set_dir, limit, unanswerable)
            samples += await collect(core, set_dir.resolve().name, questions)
        finally:
            await core.aclose()
    return samples


def run_calibrate_command(args: argparse.Namespace, settings: Settings) -> int:
    if not 0.0 <= args.target <= 1.0:
        raise UserFacingError("--target is a share between 0 and 1, e.g. 0.15")
    for set_dir in args.set_dirs:
        if not (set_dir / "questions.jsonl").is_file() or not (set_dir / "corpus").is_dir():
            raise UserFacingError(f"{set_dir} needs corpus/ and questions.jsonl")
    unanswerable = list(getattr(args, "unanswerable", None) or [])
    samples = asyncio.run(collect_sets(settings, args.set_dirs, args.limit, unanswerable))
    out: Path = args.out or settings.data_dir / "router.json"
    save_samples(samples, out.with_suffix(".samples.jsonl"))
    cloud_right = load_cloud_results(getattr(args, "cloud_results", None))
    cal = calibrate(samples, args.target, RouterConfig.load(settings.router_config or None),
                    cloud_right)
    cal.config.save(out)
    print(report(cal, samples, cloud_right))
    print(f"wrote {out} (load it with FIRSTLINE_ROUTER_CONFIG={out})")
    return 0
