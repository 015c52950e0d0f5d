"""Where an answer goes: a Slack thread, with a sign of work that the answer then replaces."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api import API_FAILURES, api_error, why
from adapters.slack.blocks import Block, fallback_text, placeholder_text, reply_blocks, text_blocks
from adapters.slack.text import to_mrkdwn
from bot.types import Reply

log = logging.getLogger(__name__)

WORKING_REACTION = "eyes"
_GONE = {"message_not_found", "cant_update_message", "edit_window_closed"}


class SlackThread:
    """The thread of one question: reaction and placeholder first, then the answer in place."""

    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str,
                 message_ts: str | None = None) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.message_ts = message_ts
        self.placeholder_ts: str | None = None
        self._reacted = False

    @classmethod
    def resumed(cls, client: AsyncWebClient, asked: dict[str, Any]) -> SlackThread:
        """The thread of a question another replica began (its placeholder, its reaction)."""
        thread = cls(client, asked["channel"], asked["thread_ts"], asked["ts"])
        thread.placeholder_ts = asked.get("placeholder_ts")
        thread._reacted = True  # removed with the answer, whoever added it
        return thread

    async def show_working(self, question: str, placeholder: bool = True) -> None:
        """Both signs at once (or the reaction alone: a streamed answer shows a status);
        either failing only costs the sign, not the answer."""
        await asyncio.gather(self._react(), self.show_placeholder(question) if placeholder
                             else asyncio.sleep(0))

    async def show_text(self, text: str) -> None:
        """The answer so far in place of the placeholder (or a streamed message)."""
        await self._put(to_mrkdwn(text), text_blocks(text))

    async def show_reply(self, reply: Reply) -> None:
        text = fallback_text(reply)
        try:
            await self._put(text, reply_blocks(reply))
        except SlackApiError as exc:  # e.g. invalid_blocks: the words still reach the user
            log.warning("Slack refused the answer's blocks (%s); sending text only", api_error(exc))
            await self._put(text, None)
        await self.done()

    async def done(self) -> None:
        """The answer is shown: the working reaction goes."""
        await self._unreact()

    async def say(self, text: str, blocks: list[Block] | None = None) -> None:
        """Replace the placeholder (or post) with a plain message: apologies, command output
        (Markdown, in a markdown block unless ``blocks`` are given)."""
        await self._put(to_mrkdwn(text), text_blocks(text) if blocks is None else blocks)
        await self._unreact()

    async def notify(self, text: str) -> None:
        """A follow-up message in the thread (reindex progress and summary).

        Failures are logged, not raised: the core's background work should not die of them.
        """
        try:
            await self.client.chat_postMessage(  # Markdown, which Slack renders itself
                channel=self.channel, thread_ts=self.thread_ts, markdown_text=text)
        except API_FAILURES as exc:
            log.warning("could not post a follow-up in %s: %s", self.channel, why(exc))

    async def _put(self, text: str, blocks: list[Block] | None) -> None:
        extra: dict[str, Any] = {"blocks": blocks} if blocks is not None else {}
        if self.placeholder_ts is not None:
            try:
                await self.client.chat_update(
                    channel=self.channel, ts=self.placeholder_ts, text=text, **extra)
                return
            except SlackApiError as exc:
                if api_error(exc) not in _GONE:
                    raise
                self.placeholder_ts = None
        await self.client.chat_postMessage(
            channel=self.channel, thread_ts=self.thread_ts, text=text, **extra)

    async def show_placeholder(self, question: str) -> None:
        try:
            resp = await self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=placeholder_text(question))
            self.placeholder_ts = resp.get("ts")
        except API_FAILURES as exc:
            log.warning("could not post the placeholder: %s", why(exc))

    async def _react(self) -> None:
        if self.message_ts is None:
            return
        try:
            await self.client.reactions_add(
                channel=self.channel, timestamp=self.message_ts, name=WORKING_REACTION)
            self._reacted = True
        except API_FAILURES as exc:
            log.debug("could not add the working reaction: %s", why(exc))

    async def _unreact(self) -> None:
        if not self._reacted or self.message_ts is None:
            return
        self._reacted = False
        try:
            await self.client.reactions_remove(
                channel=self.channel, timestamp=self.message_ts, name=WORKING_REACTION)
        except API_FAILURES as exc:
            log.debug("could not remove the working reaction: %s", why(exc))


class AnchoredNotify:
    """A ``Notify`` for slash commands, which have no thread: the first message opens one.

    The anchor goes in the command's channel; where the bot may not post there (not a member),
    in a direct message to the user instead.
    """

    def __init__(self, client: AsyncWebClient, channel: str, user: str, heading: str) -> None:
        self.client = client
        self.channel = channel
        self.user = user
        self.heading = heading
        self._thread: SlackThread | None = None
        self._lock = asyncio.Lock()

    async def __call__(self, text: str) -> None:
        async with self._lock:
            if self._thread is None:
                try:
                    self._thread = await self._open()
                except API_FAILURES as exc:
                    log.warning("nowhere to post command progress for %s: %s", self.user,
                                why(exc))
                    return
        await self._thread.notify(text)

    async def _open(self) -> SlackThread:
        try:
            return await self._anchor(self.channel)
        except SlackApiError as exc:
            log.info("cannot post in %s (%s); using a direct message", self.channel, api_error(exc))
        opened = await self.client.conversations_open(users=self.user)
        return await self._anchor(opened["channel"]["id"])

    async def _anchor(self, channel: str) -> SlackThread:
        resp = await self.client.chat_postMessage(channel=channel, text=self.heading)
        return SlackThread(self.client, channel, thread_ts=resp["ts"])
