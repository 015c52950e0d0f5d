"""Admin commands typed in chat: ``reindex [--full]``, ``status``, ``costs [7d] [by route]``,
``gaps [7d]``, ``help`` — in English or Japanese (``再インデックス``, ``ステータス``, ``コスト``,
``ギャップ``, ``ヘルプ``).

The core checks ``Question.is_admin``; adapters only decide who is an admin. A reindex runs in the
background, one at a time (in this process, and across processes through the ledger's lock
table), and reports progress and its summary through the asker's ``notify``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.answering.gaps import GapFinder, parse_period, render_gaps
from bot.answering.indexing import Indexing
from bot.answering.record import AnswerRecord, Outcome
from bot.ledger.pending import keep_lease
from bot.ledger.pricing import Pricing
from bot.ledger.report import parse_when, pricing_note, render
from bot.ledger.roles import AnswerLog, Locks
from bot.ledger.rows import hash_user
from bot.models.base import ChatModel
from bot.types import Notify, Question, Route

log = logging.getLogger(__name__)

ALIASES = {
    "reindex": "reindex",
    "再インデックス": "reindex",
    "再索引": "reindex",
    "status": "status",
    "ステータス": "status",
    "状態": "status",
    "costs": "costs",
    "cost": "costs",
    "コスト": "costs",
    "費用": "costs",
    "help": "help",
    "ヘルプ": "help",
    "gaps": "gaps",
    "ギャップ": "gaps",
}
_ARG = re.compile(r"^(--?full|full|by|day|route|channel|model|today|\d+[dh])$", re.I)
LOCK_TTL = 120.0  # seconds; renewed every third of it while the reindex runs


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...]


class Commands:
    """Step: run an admin command typed in chat (the answer is the command's reply)."""

    def __init__(self, indexing: Indexing, answers: AnswerLog, locks: Locks, *,
                 local: ChatModel, cloud: ChatModel | None, user_hash_salt: str,
                 pricing: Pricing | None = None, gaps: GapFinder | None = None) -> None:
        self.indexing = indexing
        self.gaps = gaps
        self.pricing = pricing or Pricing()
        self.answers = answers
        self.locks = locks
        self.local = local
        self.cloud = cloud
        self.user_hash_salt = user_hash_salt
        self._running: asyncio.Task[None] | None = None
        # unique per bot, not per process: two bots in one process must not share the lock
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.last_summary: str | None = None
        self.lock_ttl = LOCK_TTL

    async def __call__(self, answer: AnswerRecord) -> None:
        command = self.parse(answer.question.text)
        if command is not None:
            answer.finish(await self.run(command, answer.question, answer.notify))

    def parse(self, text: str) -> Command | None:
        words = text.strip().lstrip("/!").split()
        if not words or ALIASES.get(words[0].lower()) is None:
            return None
        args = tuple(words[1:])
        if len(args) > 3 or not all(_ARG.match(a) for a in args):
            return None  # "status of my laptop order" is a question, not a command
        return Command(ALIASES[words[0].lower()], args)

    async def run(self, command: Command, question: Question, notify: Notify | None) -> Outcome:
        ja = question.language == "ja"
        if command.name == "help":
            return self._outcome(_help(ja), "help")
        if not question.is_admin:
            log.warning(
                "refused admin command %r from non-admin user %s on %s",
                command.name,
                hash_user(question.user, self.user_hash_salt),
                question.channel,
            )
            return self._outcome(
                "このコマンドは管理者のみ実行できます。"
                if ja
                else "Sorry, only firstline admins can run that command.",
                "not-admin",
            )
        if command.name == "reindex":
            return await self._reindex(command, notify, ja)
        if command.name == "status":
            return self._outcome(await asyncio.to_thread(self.status_text), "status")
        if command.name == "gaps":
            return self._outcome(await asyncio.to_thread(self._gaps, command.args, ja), "gaps")
        return self._outcome(await asyncio.to_thread(self._costs, command.args), "costs")

    def _outcome(self, text: str, reason: str) -> Outcome:
        return Outcome(text, Route.COMMAND, reason, covered=True)

    # -- reindex ------------------------------------------------------------------------
    @property
    def reindex_running(self) -> bool:
        return self._running is not None and not self._running.done()

    async def _reindex(self, command: Command, notify: Notify | None, ja: bool) -> Outcome:
        busy = "再インデックスは既に実行中です。" if ja else "A reindex is already running."
        if self.reindex_running:
            return self._outcome(busy, "reindex-busy")
        if not await asyncio.to_thread(self._hold_lock):
            return self._outcome(busy, "reindex-busy")
        full = any(a.lstrip("-").lower() == "full" for a in command.args)
        loop = asyncio.get_running_loop()
        self._running = loop.create_task(self._reindex_task(full, notify, ja, loop))
        return self._outcome(
            "再インデックスを開始しました。進捗をお知らせします。"
            if ja
            else "Reindex started; I'll post progress and a summary here.",
            "reindex-started",
        )

    async def _reindex_task(
        self, full: bool, notify: Notify | None, ja: bool, loop: asyncio.AbstractEventLoop
    ) -> None:
        last = [time.monotonic()]

        def progress(done: int, total: int, path: str) -> None:
            if notify is None or time.monotonic() - last[0] < 10 or done == total:
                return
            last[0] = time.monotonic()
            text = f"進捗: {done}/{total} ファイル" if ja else f"Indexing… {done}/{total} files"
            asyncio.run_coroutine_threadsafe(notify(text), loop)

        try:
            async with keep_lease(self._hold_lock, self.lock_ttl / 3):
                summary = await asyncio.to_thread(self.indexing.index, None, full=full,
                                                  progress=progress)
            text = (
                f"再インデックス完了: {summary.line()}"
                if ja
                else f"Reindex finished: {summary.line()}"
            )
            text += _details(summary.detail_lines(), ja)
        except FileNotFoundError as exc:  # a configured folder is missing: say which
            log.warning("reindex failed: %s", exc)
            text = f"再インデックスに失敗しました: {exc}" if ja else f"Reindex failed: {exc}"
        except Exception:
            log.exception("reindex failed")
            text = (
                "再インデックスに失敗しました。ログを確認してください。"
                if ja
                else "Reindex failed; see the bot's log."
            )
        finally:
            await asyncio.to_thread(self.locks.release_lock, "reindex", self._owner)
        self.last_summary = text
        if notify is not None:
            try:
                await notify(text)
            except Exception:
                log.exception("could not post the reindex summary")

    def _hold_lock(self) -> bool:
        """Take, or renew, the reindex lock for :attr:`lock_ttl` seconds."""
        return self.locks.acquire_lock("reindex", self._owner, self.lock_ttl)

    async def wait_reindex(self) -> None:
        """Wait for a running reindex (tests, shutdown)."""
        if self._running is not None:
            await self._running

    # -- status and costs -----------------------------------------------------------------
    def status_text(self) -> str:
        """What the ``status`` command says (also `firstline status`)."""
        files = self.indexing.store.files()
        state = "running" if self.reindex_running else "idle"
        cloud = "configured" if self.cloud is not None else "not configured"
        flagged = sorted(p for p, r in files.items() if r.flags)
        lines = [
            f"Documents: {len(files)}, chunks: {sum(len(r.chunk_ids) for r in files.values())}",
            *([f"Flagged (instruction-like text, review them): {', '.join(flagged)}"]
              if flagged else []),
            f"Reindex: {state}" + (f" (last: {self.last_summary})" if self.last_summary else ""),
            f"Local model: {self.local.name}; cloud: {cloud}",
        ]
        return "\n".join(lines)

    def _costs(self, args: tuple[str, ...]) -> str:
        since = datetime.now(UTC) - timedelta(days=7)
        by = None
        words = [a.lower() for a in args]
        for word in words:
            if re.fullmatch(r"\d+[dh]|today", word):
                since = parse_when(word)
            elif word in {"day", "route", "channel", "model"}:
                by = word
        rows = self.answers.summary(since=since, by=by)
        table = f"Since {since:%Y-%m-%d %H:%M} UTC\n```\n{render(rows, 'table')}\n```"
        total = self.answers.summary(since=since)[0] if by else rows[0] if rows else None
        return f"{table}\n{pricing_note(total, self.pricing)}" if total else table


    def _gaps(self, args: tuple[str, ...], ja: bool) -> str:
        period = next((a for a in args if re.fullmatch(r"\d+[dh]", a.lower())), None)
        since = parse_period(period)
        if self.gaps is None:
            return "No gap report configured."
        return render_gaps(self.gaps.find(since, limit=10), since, ja)


def _details(lines: list[str], ja: bool, limit: int = 15) -> str:
    """The summary's ``failed: path: why`` lines as bullets, the first ``limit`` of them (a
    share full of archives would otherwise make one huge chat message)."""
    shown = "".join(f"\n• {line}" for line in lines[:limit])
    rest = len(lines) - limit
    if rest > 0:
        shown += (f"\n…ほか {rest} 件(`firstline index` で全件を表示)" if ja
                  else f"\n… and {rest} more (`firstline index` lists them all)")
    return shown


def _help(ja: bool) -> str:
    if ja:
        return (
            "質問をそのまま送ってください。管理者コマンド: `再インデックス`(`--full`で全件)、"
            "`ステータス`、`コスト [7d] [by route]`、`ギャップ [7d]`。"
        )
    return (
        "Ask me anything about IT, HR, expenses or facilities. Admin commands: "
        "`reindex [--full]`, `status`, `costs [7d] [by day|route|channel|model]`, `gaps [7d]`."
    )
