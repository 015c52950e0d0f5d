"""The ``firstline`` command: index, ask, chat, eval, costs, router, serve, config."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from bot.answering.responder import Firstline
from bot.app.abstention import run_abstention_command
from bot.app.arguments import parser
from bot.app.calibrate import run_calibrate_command
from bot.app.composition import build_firstline
from bot.app.costs import run_costs
from bot.app.evaluate import run_eval_command
from bot.app.indexed import others_hint
from bot.app.progress import progress_bar
from bot.app.serve import serve
from bot.errors import FirstlineError, UserFacingError
from bot.ops.logs import setup_logging
from bot.settings import Settings, SettingsBase, reference_markdown
from bot.types import Question, Reply, Turn
from knowledge.errors import KnowledgeError

log = logging.getLogger("firstline")

# The adapters' settings (their own tables of firstline.toml), and every settings class in the
# order `firstline config` and the README's reference show them.
ADAPTER_SETTINGS: tuple[type[SettingsBase], ...] = (SlackSettings, TeamsSettings)
SETTINGS_CLASSES: tuple[type[SettingsBase], ...] = (Settings, *ADAPTER_SETTINGS)


def _config_file(args: argparse.Namespace) -> str | None:
    """``--config``; None: FIRSTLINE_CONFIG or ./firstline.toml."""
    return getattr(args, "config", None)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load({"data_dir": getattr(args, "data_dir", None)},
                         config_file=_config_file(args))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = _settings(args)
        verbose = getattr(args, "verbose", False)
        setup_logging("DEBUG" if verbose else settings.log_level, settings.json_logs)
        return _dispatch(args, settings)
    except UserFacingError as exc:
        print(f"firstline: {exc}", file=sys.stderr)
        return 2
    except (FirstlineError, KnowledgeError) as exc:
        print(f"firstline: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "config":
        if args.markdown:
            print(reference_markdown(*SETTINGS_CLASSES))
        else:
            shown = settings.redacted()
            for cls in ADAPTER_SETTINGS:  # e.g. "slack": {...}, secrets masked too
                shown[cls.section] = cls.load(config_file=_config_file(args)).redacted()
            print(json.dumps(shown, indent=2, ensure_ascii=False))
        return 0
    if args.command == "costs":
        return run_costs(args, settings)
    if args.command == "serve":
        return serve(settings, config_file=_config_file(args))
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
    return asyncio.run(_chat(core, args))


def _index(core: Firstline, args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or None
    with progress_bar(enabled=sys.stderr.isatty() and not args.json) as progress:
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


def identity(user: Any, groups: Any, where: Any) -> dict[str, Any]:
    """Question fields for an asker given on the command line or in a batch line."""
    if where not in ("dm", "channel"):
        raise UserFacingError(f"where must be dm or channel, not {where!r}")
    names = groups.split(",") if isinstance(groups, str) else list(groups or [])
    return {"user": str(user or "cli"), "where": where,
            "groups": frozenset(str(g).strip().lower() for g in names if str(g).strip())}


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


def render_text(reply: Reply) -> str:
    route = {
        "local": "on-prem",
        "cloud": "cloud",
        "cache": "cached",
        "local-fallback": "on-prem (cloud unavailable)",
    }.get(reply.route.value, reply.route.value)
    lines = [reply.text]
    cited = reply.cited_sources or (reply.sources[:1] if reply.covered else ())
    if cited and reply.route.value not in {"command", "failed"}:
        lines.append("")
        lines.extend(f"  [{s.path}] {s.title}" for s in cited)
    if reply.notice:
        lines.append(f"({reply.notice})")
    lines.append(f"— {route}, {reply.latency_ms / 1000:.1f}s, id {reply.answer_id}")
    return "\n".join(lines)


async def _chat(core: Firstline, args: argparse.Namespace) -> int:
    print("firstline chat — ask a question (Ctrl-D to quit; 'help' for commands).")
    history: list[Turn] = []
    who = identity(args.user, args.groups, args.where)

    async def notify(text: str) -> None:
        print(f"\n{text}\n> ", end="", flush=True)

    try:
        while True:
            try:
                line = await asyncio.to_thread(input, "> ")
            except EOFError:
                print()
                return 0
            if not line.strip():
                continue
            reply = await core.handle(
                Question(line, channel="cli", conversation="chat",
                         is_admin=core.settings.cli_admin, history=tuple(history[-6:]), **who),
                notify)
            print(render_text(reply))
            history += [Turn("user", line), Turn("assistant", reply.text)]
    finally:
        await core.aclose()


if __name__ == "__main__":
    sys.exit(main())
