"""``python -m bot.slm_server``: the SLM as a shared OpenAI-compatible server, so it scales apart
from the bot (compose's ``slm`` service, the Kubernetes ``firstline-slm`` Deployment, systemd's
``firstline-slm.service``).

The GGUF is found exactly as the in-process SLM finds it — ``FIRSTLINE_SLM_MODEL``, else the
embedded default assembled into ``FIRSTLINE_DATA_DIR/models`` — and served by llama-cpp-python's
server with ``FIRSTLINE_SLM_CONTEXT`` and ``FIRSTLINE_SLM_THREADS``, under the file's stem (the
model name the ledger records in-process). Bots then set ``FIRSTLINE_SLM_URL=http://HOST:PORT/v1``.
Per-token log-probabilities stay on, so the router's confidence signals work the same in both
modes; they make llama_cpp.server compute logits for every prompt token, which roughly doubled
prompt time in tests/bench/bench_scaleout.py — ``--no-logprobs`` trades the signals for speed (the
bot then answers without them). ``--assemble-only`` only assembles the default model (the image's
``BAKE_MODEL=1`` build step).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.errors import FirstlineError
from bot.models.packaged import resolve_slm_path
from bot.settings import Settings


def server_command(settings: Settings, model: Path, host: str, port: int,
                   logprobs: bool = True) -> list[str]:
    """The llama_cpp.server command line for ``model`` with the SLM settings."""
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
            "--model_alias", model.stem, "--host", host, "--port", str(port),
            "--n_ctx", str(settings.slm_context), "--verbose", "false",
            # 0 means all cores, as in-process (llama_cpp.server's own default is half)
            "--n_threads", str(settings.slm_threads or os.cpu_count() or 1),
            # logprobs need logits for every token, prompt included: the confidence signals
            # cost prompt-processing time here (in-process they do not)
            "--logits_all", "true" if logprobs else "false",
            *(["--chat_format", settings.slm_chat_format] if settings.slm_chat_format else [])]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.slm_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument("--no-logprobs", action="store_true",
                        help="faster prompts, but no token log-probabilities: the router then "
                        "has no confidence signals for this server's answers")
    parser.add_argument("--assemble-only", action="store_true",
                        help="assemble the default model into the data dir, print its path, exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.load()
    try:
        model = resolve_slm_path(settings.slm_model, settings.data_dir)
    except FirstlineError as exc:
        print(f"firstline-slm: {exc}", file=sys.stderr)
        return 1
    if args.assemble_only:
        print(model)
        return 0
    command = server_command(settings, model, args.host, args.port,
                             logprobs=not args.no_logprobs)
    sys.stdout.flush()
    os.execv(command[0], command)  # the server becomes this process: signals reach it directly


if __name__ == "__main__":
    sys.exit(main())
