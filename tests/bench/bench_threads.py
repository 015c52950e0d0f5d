"""How fast the SLM reads a prompt with OpenMP's default wait policy and with the passive one
firstline sets (``bot/__init__.py``), on an idle machine and beside busy processes.

    python tests/bench/bench_threads.py [--slm GGUF] [--busy 2] [--rounds 4]

OpenMP reads ``OMP_WAIT_POLICY`` once, when it loads, so each measurement is a child process:
one imports ``bot`` first (the passive default), the other imports torch and llama.cpp exactly
as before (the runtime's own default: threads spin at barriers before they sleep). Each child
loads the GGUF, evaluates a 337-token prefix (the fixed prompt, reused from the KV cache in the
bot) and then times the 126 new tokens a typical answer brings (passage, question, template),
five times. The two kinds alternate ABBA, and the whole round runs again with ``--busy`` pure
Python busy loops beside it (another replica, the embeddings, the index, other tenants).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, load_average

CHILD = r"""
import json, os, sys, time
if sys.argv[1] == "passive":
    import bot  # sets OMP_WAIT_POLICY=PASSIVE unless the environment has one
import sentence_transformers  # noqa: F401 (torch's OpenMP loads first, as in the bot)
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[2], n_ctx=4096, n_threads=int(sys.argv[3]), n_batch=512,
            verbose=False)
prefix = llm.tokenize(("You are the company helpdesk assistant. " * 60).encode())[:337]
suffix = llm.tokenize((" How do I reset my VPN password before the expense claim is due?" * 12)
                      .encode(), add_bos=False)[:126]
rates = []
for _ in range(5):
    llm.reset()
    llm.eval(prefix)
    started = time.perf_counter()
    llm.eval(suffix)
    rates.append(len(suffix) / (time.perf_counter() - started))
print(json.dumps({"rates": rates, "policy": os.environ.get("OMP_WAIT_POLICY", "")}))
"""


def spin() -> None:
    while True:
        pass


def child(kind: str, model: Path, threads: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(model), str(threads)],
                         env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    expected = "PASSIVE" if kind == "passive" else ""
    if result["policy"] != expected:
        raise SystemExit(f"{kind} child ran with OMP_WAIT_POLICY={result['policy']!r}")
    return list(result["rates"])


def measure(model: Path, threads: int, rounds: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {"default": [], "passive": []}
    for r in range(rounds):
        order = ("default", "passive") if r % 2 == 0 else ("passive", "default")
        for kind in order:
            rates[kind] += child(kind, model, threads)
    return rates


def report(label: str, rates: dict[str, list[float]]) -> None:
    base, new = statistics.median(rates["default"]), statistics.median(rates["passive"])
    low = {k: sorted(v)[max(0, len(v) // 10 - 1)] for k, v in rates.items()}
    print(f"{label:<26} default {base:6.0f} tok/s (p10 {low['default']:5.0f})   "
          f"passive {new:6.0f} tok/s (p10 {low['passive']:5.0f})   ratio {new / base:5.2f}x"
          f"   126 tokens: {126 / base:5.2f} s -> {126 / new:5.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slm", type=Path, help="a GGUF (default: the packaged model)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bot.models.packaged import resolve_slm_path

    model = args.slm or resolve_slm_path("", Path(tempfile.gettempdir()) / "fl-bench-threads")
    print(f"{model.name}, n_threads {args.threads}, {args.rounds} rounds ABBA x 5 prompts, "
          f"load average before: {load_average()}", flush=True)
    report("as the machine is", measure(model, args.threads, args.rounds))
    hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for hog in hogs:
        hog.start()
    try:
        report(f"beside {args.busy} busy loops", measure(model, args.threads, args.rounds))
    finally:
        for hog in hogs:
            hog.terminate()
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
