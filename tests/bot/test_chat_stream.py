"""`firstline chat` shows the answer as it is written on a terminal, and never leaves a replaced
draft on screen; into a pipe it prints only the finished reply."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import Console

from bot.app.chat import answer_live
from bot.types import (
    Final,
    Notify,
    Question,
    Replace,
    Reply,
    Route,
    Status,
    StreamEvent,
    TextDelta,
)

REPLY = Reply(text="Not covered: ask the helpdesk.", route=Route.DECLINED, answer_id="a1")


class Scripted:
    """A streaming responder that plays fixed events (and records which path was used)."""

    def __init__(self, events: list[StreamEvent]) -> None:
        self.events = events
        self.used: list[str] = []

    async def handle(self, question: Question, notify: Notify | None = None) -> Reply:
        self.used.append("handle")
        return REPLY

    async def stream(self, question: Question,
                     notify: Notify | None = None) -> AsyncIterator[StreamEvent]:
        self.used.append("stream")
        for event in self.events:
            yield event

    async def feedback(self, answer_id: str, user: str, vote: str, reason: str = "") -> None:
        return None


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=80, highlight=False), out


SCRIPT: list[StreamEvent] = [
    Status("Searching the documents…"), TextDelta("The VPN "), TextDelta("draft answer"),
    Replace(REPLY.text), Final(REPLY)]


async def test_a_terminal_shows_the_status_and_the_text_as_it_comes() -> None:
    core, (screen, out) = Scripted(SCRIPT), console(terminal=True)
    reply = await answer_live(screen, core, Question("q"))  # type: ignore[arg-type]
    assert reply is REPLY and core.used == ["stream"]
    drawn = out.getvalue()
    assert "Searching the documents…" in drawn and "The VPN draft answer" in drawn
    # every event redraws the live view; being transient, it ends by erasing itself
    assert drawn.index("Searching") < drawn.index("The VPN draft answer") < drawn.index(
        REPLY.text)
    assert drawn.endswith("\x1b[1A\x1b[2K")


async def test_a_pipe_gets_only_the_finished_reply() -> None:
    core, (screen, out) = Scripted(SCRIPT), console(terminal=False)
    reply = await answer_live(screen, core, Question("q"))  # type: ignore[arg-type]
    assert reply is REPLY and core.used == ["handle"] and out.getvalue() == ""


@pytest.mark.slm
def test_chat_on_a_terminal_streams_then_shows_the_cited_answer(
        tmp_path: Path, slm_path: Path) -> None:
    """The real CLI on a pseudo-terminal, the real GGUF, the sample knowledge base: the status
    line, streamed text, then the finished answer with its source."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTLINE_")}
    env |= {"FIRSTLINE_DATA_DIR": str(tmp_path / "data"), "FIRSTLINE_SLM_MODEL": str(slm_path),
            "FIRSTLINE_CACHE_TTL_SECONDS": "0", "TERM": "xterm-256color"}
    subprocess.run([sys.executable, "-m", "bot.app.cli", "index"], cwd=tmp_path, env=env,
                   check=True, capture_output=True, timeout=900)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "chat"], cwd=tmp_path,
                               env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    screen = _read_until(leader, b"> ", 300)
    os.write(leader, b"How do I reset my VPN password?\n")
    screen = _read_until(leader, b"vpn-password-reset.md", 300)
    os.write(leader, b"\x04")  # Ctrl-D ends the chat
    assert process.wait(timeout=60) == 0
    text = screen.decode(errors="replace")
    assert "Searching the documents…" in text
    frames = text.split("Searching the documents…", 1)[1]
    # streamed: the live view was redrawn with growing text before the final answer printed
    assert frames.count("\x1b[2K") >= 2, frames[:500]
    assert "[it/vpn-password-reset.md]" in text


def _read_until(fd: int, marker: bytes, seconds: float) -> bytes:
    seen, deadline = b"", time.monotonic() + seconds
    while marker not in seen and time.monotonic() < deadline:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            break
    return seen


async def test_chat_loads_the_models_while_the_first_question_is_typed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from unit_parts import make_core

    from bot.app.chat import run_chat

    core = make_core(tmp_path)
    order: list[str] = []
    loaded = core.load
    monkeypatch.setattr(core, "load", lambda: (order.append("load"), loaded())[1])
    lines = iter(["How do I reset my VPN password?"])

    def typed(_prompt: str = "") -> str:
        order.append("typed")
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", typed)
    args = argparse.Namespace(user="u1", groups=None, where="dm")
    assert await run_chat(core, args) == 0
    assert order.count("load") == 1 and len(core.local.requests) >= 1  # type: ignore[attr-defined]
    assert core.ledger.rows()[0].route == "local"  # answered after the head start
