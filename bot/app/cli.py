"""The ``firstline`` command: index, ask, chat, eval, costs, gaps, approved, router, serve,
config."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from bot.answering.responder import Firstline
from bot.app.abstention import run_abstention_command
from bot.app.arguments import parser
from bot.app.calibrate import run_calibrate_command
from bot.app.chat import chat_log_path, identity, render_text, run_chat
from bot.app.composition import build_firstline
from bot.app.costs import run_costs
from bot.app.curation import run_approved_command, run_gaps_command
from bot.app.evaluate import run_eval_command
from bot.app.indexed import others_hint
from bot.app.progress import progress_bar
from bot.app.serve import serve
from bot.app.startup import Loaded, load_settings, preflight
from bot.errors import FirstlineError, UserFacingError
from bot.ops.logs import setup_logging
from bot.settings import Settings, SettingsBase, reference_markdown
from bot.types import Question, Reply
from knowledge.errors import KnowledgeError

log = logging.getLogger("firstline")

# The adapters' settings (their own tables of firstline.toml), and every settings class in the
# order `firstline config` and the README's reference show them.
ADAPTER_SETTINGS: tuple[type[SettingsBase], ...] = (SlackSettings, TeamsSettings)
SETTINGS_CLASSES: tuple[type[SettingsBase], ...] = (Settings, *ADAPTER_SETTINGS)


def _config_file(args: argparse.Namespace) -> str | None:
    """``--config``; None: FIRSTLINE_CONFIG or ./firstline.toml."""
    return getattr(args, "config", None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; a problem is one line on stderr (with its traceback under --verbose)."""
    args = parser().parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    try:
        loaded = load_settings({"data_dir": getattr(args, "data_dir", None)},
                               _config_file(args))
        _set_up_logging(args, loaded.core, verbose)
        return _dispatch(args, loaded)
    except UserFacingError as exc:
        return _fail(exc, 2, verbose)
    except (FirstlineError, KnowledgeError) as exc:
        return _fail(exc, 1, verbose)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, not a traceback
        return _fail(exc, 1, verbose, unexpected=True)


def _fail(exc: BaseException, code: int, verbose: bool, *, unexpected: bool = False) -> int:
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    if unexpected:
        first = (str(exc).strip().splitlines() or [""])[0]
        hint = "" if verbose else " (--verbose shows the traceback)"
        print(f"firstline: unexpected error: {type(exc).__name__}: {first}{hint}",
              file=sys.stderr)
        return code
    for line in str(exc).splitlines():
        print(f"firstline: {line}", file=sys.stderr)
    return code


def _set_up_logging(args: argparse.Namespace, settings: Settings, verbose: bool) -> None:
    """`firstline chat` logs to a file (the screen is the conversation), the rest to stderr."""
    log_file = chat_log_path(settings) if args.command == "chat" else None
    setup_logging(settings.log_level, settings.json_logs, verbose=verbose, log_file=log_file)


def _dispatch(args: argparse.Namespace, loaded: Loaded) -> int:
    settings = loaded.core
    if args.command == "config":
        return _config(args, loaded)
    if args.command == "costs":
        return run_costs(args, settings)
    if args.command == "gaps":
        return run_gaps_command(args, settings)
    if args.command == "approved":
        return run_approved_command(args, settings)
    if args.command == "serve":  # its checks include the channels'
        return serve(settings, slack=loaded.slack, teams=loaded.teams,
                     allow_no_channels=args.no_channels)
    preflight(settings, model=args.command not in ("index", "status"))
    if args.command == "eval":
        return run_eval_command(args, settings)
    if args.command == "router" and args.router_command == "abstention":
        return run_abstention_command(args, settings)
    if args.command == "router":
        return run_calibrate_command(args, settings)
    core = build_firstline(settings)
    if args.command == "index":
        return _index(core, args)
    if args.command == "status":
        return _status(core)
    if args.command == "ask":
        return asyncio.run(_ask(core, args))
    return asyncio.run(run_chat(core, args))


def _config(args: argparse.Namespace, loaded: Loaded) -> int:
    if args.markdown:
        print(reference_markdown(*SETTINGS_CLASSES))
        return 0
    shown = loaded.core.redacted()
    for part in (loaded.slack, loaded.teams):  # e.g. "slack": {...}, secrets masked too
        shown[part.section] = part.redacted()
    print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


def _index(core: Firstline, args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or None
    on_terminal = sys.stderr.isatty() and not args.json
    if on_terminal:  # the bar would sit at 0 while the models load
        print("loading the embedding models…", file=sys.stderr, flush=True)
        for embedder in (core.indexing.embeddings, core.indexing.multilingual):
            if embedder is not None:
                embedder.load()
    with progress_bar(enabled=on_terminal) as progress:
        try:
            summary = core.indexing.index(paths, full=args.full, progress=progress,
                                          replace=args.replace)
        except FileNotFoundError as exc:
            raise UserFacingError(str(exc)) from exc
    others = core.indexing.others(paths) if paths and not args.replace else {}
    if args.json:
        print(json.dumps({**summary.as_dict(), "others": others}, ensure_ascii=False, indent=2))
    else:
        print(summary.line())
        for line in summary.detail_lines():
            print(f"  {line}")
        if others:
            print(others_hint(others, args.paths))
    return 0


def _status(core: Firstline) -> int:
    try:
        print(core.commands.status_text())
    finally:
        asyncio.run(core.aclose())
    return 0


def reply_json(reply: Reply, question_id: str | None, question: str) -> dict[str, Any]:
    return {
        "id": question_id,
        "question": question,
        "answer": reply.text,
        "covered": reply.covered,
        "route": reply.route.value,
        "reason": reply.reason,
        "sources": [{"path": s.path, "title": s.title, "score": s.score} for s in reply.sources],
        "cited": list(reply.cited),
        "latency_ms": reply.latency_ms,
        "answer_id": reply.answer_id,
        "language": reply.language,
        "models": list(reply.models),
        "tokens": reply.tokens,
        "cost_usd": reply.cost_usd,
        "signals": reply.signals,
        "notice": reply.notice,
        **({"error": reply.error} if reply.error else {}),
    }


async def _ask(core: Firstline, args: argparse.Namespace) -> int:
    try:
        if args.batch:
            return await _ask_batch(core, Path(args.batch), args)
        if args.question is None:
            raise UserFacingError("give a question, or --batch FILE.jsonl")
        reply = await core.handle(
            Question(args.question, channel="cli", is_admin=core.settings.cli_admin,
                     **identity(args.user, args.groups, args.where))
        )
        if args.json:
            print(json.dumps(reply_json(reply, None, args.question), ensure_ascii=False, indent=2))
        else:
            print(render_text(reply))
        return 0 if reply.error is None else 1
    finally:
        await core.aclose()


async def _ask_batch(core: Firstline, path: Path, default: argparse.Namespace) -> int:
    """Each line may name its own asker (``user``, ``groups``, ``where``); the command line's
    ``--user``/``--groups``/``--where`` are the default."""
    if not path.is_file():
        raise UserFacingError(f"no such batch file: {path}")
    failures = 0
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                qid, text = item.get("id", str(n)), str(item["question"])
                who = identity(item.get("user", default.user), item.get("groups", default.groups),
                               item.get("where", default.where))
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError,
                    UserFacingError) as exc:
                failures += 1
                print(
                    json.dumps({"id": str(n), "error": f"line {n}: bad input ({exc})"}), flush=True
                )
                continue
            reply = await core.handle(Question(text, channel="cli", id=qid, **who))
            failures += reply.error is not None
            print(json.dumps(reply_json(reply, qid, text), ensure_ascii=False), flush=True)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
