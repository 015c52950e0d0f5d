"""The terminal's view of a reply (`firstline ask` and `chat`), and `firstline chat` itself: a
conversation whose answers are rendered Markdown (rich) and whose log goes to a file (named once
in the greeting), so no log line lands in the conversation."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.markdown import CodeBlock, Markdown
from rich.text import Text

from bot.answering.responder import Firstline
from bot.errors import UserFacingError
from bot.settings import Settings
from bot.types import (
    Final,
    Notify,
    Question,
    Replace,
    Reply,
    Status,
    StreamingResponder,
    TextDelta,
    Turn,
)

log = logging.getLogger(__name__)

HISTORY_TURNS = 6
ROUTES = {"local": "on-prem", "cloud": "cloud", "cache": "cached", "approved": "approved answer",
          "local-fallback": "on-prem (cloud unavailable)"}


def identity(user: Any, groups: Any, where: Any) -> dict[str, Any]:
    """Question fields for an asker given on the command line or in a batch line."""
    if where not in ("dm", "channel"):
        raise UserFacingError(f"where must be dm or channel, not {where!r}")
    names = groups.split(",") if isinstance(groups, str) else list(groups or [])
    return {"user": str(user or "cli"), "where": where,
            "groups": frozenset(str(g).strip().lower() for g in names if str(g).strip())}


def reply_footer(reply: Reply) -> list[str]:
    """What follows the answer: its sources, a notice, the route, time and id."""
    lines = []
    cited = reply.cited_sources or (reply.sources[:1] if reply.covered else ())
    if cited and reply.route.value not in {"command", "failed"}:
        lines.append("")
        lines.extend(f"  [{s.path}] {s.title}" for s in cited)
    if reply.notice:
        lines.append(f"({reply.notice})")
    route = ROUTES.get(reply.route.value, reply.route.value)
    lines.append(f"— {route}, {reply.latency_ms / 1000:.1f}s, id {reply.answer_id}")
    return lines


def render_text(reply: Reply) -> str:
    """A reply as plain text (`firstline ask`)."""
    return "\n".join([reply.text, *reply_footer(reply)])


def chat_log_path(settings: Settings) -> Path:
    """Where `firstline chat` logs: ``DATA_DIR/logs/chat.log``."""
    return settings.data_dir / "logs" / "chat.log"


class _Code(CodeBlock):
    """A code block as its lines, unwrapped: a table (the costs report) stays a table."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(str(self.text).rstrip(), style="bold", no_wrap=True, overflow="ignore")


class _Markdown(Markdown):
    elements = {**Markdown.elements, "fence": _Code, "code_block": _Code}


def show_reply(console: Console, reply: Reply) -> None:
    """The answer as Markdown, then its sources and route as plain text."""
    console.print(_Markdown(reply.text, justify="default"), crop=False)
    console.print(Text("\n".join([*reply_footer(reply), ""])), soft_wrap=True)


async def answer_live(console: Console, core: StreamingResponder, question: Question,
                      notify: Notify | None = None) -> Reply:
    """On a terminal, the answer as it is written: the core's status in dim italics, then the
    streamed text; the live view is erased at the end, so a draft the core replaced (or
    declined) is never left on screen, and the finished reply is shown by :func:`show_reply`.
    Into a pipe or a file, just the finished reply."""
    if not console.is_terminal:
        return await core.handle(question, notify)
    shown, reply = "", None
    with Live(Text(""), console=console, transient=True, refresh_per_second=10) as live:
        async for event in core.stream(question, notify):
            if isinstance(event, Status):
                live.update(Text(event.text, style="dim italic"), refresh=True)
            elif isinstance(event, TextDelta | Replace):
                shown = shown + event.text if isinstance(event, TextDelta) else event.text
                live.update(Text(shown), refresh=True)
            elif isinstance(event, Final):
                reply = event.reply
    assert reply is not None  # a stream always ends with its Final
    return reply


def _load(core: Firstline) -> None:
    """A head start only: a failure here is met again, and shown, by the first answer."""
    try:
        core.load()
    except Exception:
        log.warning("could not load the models ahead of the first question", exc_info=True)


async def run_chat(core: Firstline, args: argparse.Namespace) -> int:
    """Answer questions from standard input until it ends."""
    console = Console(highlight=False)
    console.print(Text("firstline chat — ask a question (Ctrl-D to quit; 'help' for commands). "
                       f"Log: {chat_log_path(core.settings)}"), soft_wrap=True)
    prompt = "> " if sys.stdin.isatty() else ""  # no prompts in a transcript from a pipe
    history: list[Turn] = []
    who = identity(args.user, args.groups, args.where)
    # the models and the prompt's fixed start load while the first question is typed
    loading: asyncio.Future[None] | None = asyncio.ensure_future(asyncio.to_thread(_load, core))

    async def notify(text: str) -> None:
        console.print(Text(f"\n{text}"))
        console.print(prompt, end="")  # the prompt again: input() is still waiting

    try:
        while True:
            try:
                line = await asyncio.to_thread(input, prompt)
            except EOFError:
                console.print()
                return 0
            if not line.strip():
                continue
            if loading is not None:
                await loading
                loading = None
            reply = await answer_live(console, core, Question(
                line, channel="cli", conversation="chat", is_admin=core.settings.cli_admin,
                history=tuple(history[-HISTORY_TURNS:]), **who), notify)
            show_reply(console, reply)
            history += [Turn("user", line), Turn("assistant", reply.text)]
    finally:
        if loading is not None:
            await loading
        await core.aclose()
