"""A stand-in for Slack itself, over real sockets: the Web API (reached through slack_sdk's
``base_url``), ``response_url`` endpoints, and the Socket Mode websocket.

Every call is recorded (method, arguments, arrival time) so tests assert on what was posted.
Messages the bot posts are kept per channel, so ``conversations.replies`` returns real threads.
Modelled on bolt-python's ``tests/mock_web_api_server``.

Streamed messages (``chat.startStream`` / ``appendStream`` / ``stopStream``) keep their text
like any other message and refuse what Slack refuses: recipients missing outside a DM, and
appends to a stream that was stopped or is older than ``stream_expiry`` seconds
(``message_not_in_streaming_state``). ``assistant.threads.setStatus`` and
``setSuggestedPrompts`` are recorded in ``statuses`` and ``prompts``.

Blocks and Markdown are checked as Slack checks them (:func:`refused_markdown`): a ``markdown``
block only in messages (not in modals or App Home), with text, at most 12,000 characters for
all the message's markdown blocks together (``invalid_blocks``); ``markdown_text``
(chat.postMessage, chat.update) not beside ``text`` or ``blocks`` (``invalid_arguments``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from adapters.slack.server import mount_slack
from adapters.slack.settings import SlackSettings

T = TypeVar("T")

TEAM, BOT_USER, BOT_ID, APP_ID = "T0TEAM", "UBOT", "BBOT", "A0APP"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN, APP_TOKEN = "xoxb-test-token", "xapp-test-token"
ADMIN, ASKER, GROUP_ADMIN = "U0ADMIN", "U0ASKER", "U0GROUPIE"
ADMIN_GROUP = "S0ADMINS"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)
    authorization: str = ""


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Run ``app`` on 127.0.0.1 at an ephemeral port; returns the runner and base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@contextlib.asynccontextmanager
async def mounted(responder: Any, settings: SlackSettings, **options: Any
                  ) -> AsyncIterator[Running]:
    """What `firstline serve` does: the Slack app mounted on an aiohttp app (``options`` go to
    :func:`mount_slack`), listening, with a signed client for its /slack/events."""
    web_app = web.Application()
    app = mount_slack(web_app, responder, settings, **options)
    runner, url = await serve(web_app)
    try:
        async with aiohttp.ClientSession() as session:
            yield Running(app, url, SignedSender(f"{url}/slack/events", session))
    finally:
        await runner.cleanup()


class SlackStandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[Call] = []  # posts to response_url
        self.failures: dict[str, str] = {}  # method -> error Slack answers with
        self.refused_channels: dict[str, str] = {}  # channel -> error for any call there
        self.refuse: Callable[[str, dict[str, Any]], str | None] = lambda method, args: None
        self.usergroups: dict[str, list[str]] = {}
        self.failing_usergroups: set[str] = set()
        self.emails: dict[str, str] = {}  # users.info
        self.names: dict[str, str] = {}  # users.info: display names
        self.locales: dict[str, str] = {}  # users.info with include_locale
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> messages
        self.stream_expiry = 300.0  # seconds a streamed message accepts appends
        self.statuses: dict[tuple[str, str], str] = {}  # (channel, thread_ts) -> shown status
        self.prompts: dict[tuple[str, str], dict[str, Any]] = {}  # suggested prompts per thread
        self.socket_received: list[tuple[float, dict[str, Any]]] = []
        self._ts = itertools.count(1)
        self._base = int(time.time())
        self._socket: web.WebSocketResponse | None = None
        self._socket_ready = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> SlackStandIn:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/link", self._link)
        self._runner, self.url = await serve(app)
        return self

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.url}/respond/{name}"

    # -- what tests look at ---------------------------------------------------------------
    def calls_to(self, *methods: str) -> list[Call]:
        return [c for c in self.calls if c.method in methods]

    def in_thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The thread as Slack would show it now (bot posts after their updates)."""
        return [m for m in self.messages.get(channel, [])
                if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]

    def bot_texts(self, channel: str, thread_ts: str) -> list[str]:
        return [m["text"] for m in self.in_thread(channel, thread_ts) if m.get("bot_id")]

    async def wait_for(self, check: Callable[[], T], timeout: float = 5.0) -> T:
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls so far: {[c.method for c in self.calls]}")
            await asyncio.sleep(0.01)

    async def settle(self, quiet: float = 0.3) -> None:
        """Wait until no call has arrived for ``quiet`` seconds (to assert on absences)."""
        while True:
            count = len(self.calls) + len(self.responses)
            await asyncio.sleep(quiet)
            if count == len(self.calls) + len(self.responses):
                return

    # -- people writing in Slack -----------------------------------------------------------
    def next_ts(self) -> str:
        return f"{self._base}.{next(self._ts):06d}"

    def user_message(self, channel: str, text: str, user: str = "U0ASKER",
                     thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
        ts = self.next_ts()
        message = {"type": "message", "user": user, "text": text, "ts": ts, **extra}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.messages.setdefault(channel, []).append(message)
        return message

    # -- the Web API -----------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        auth = request.headers.get("Authorization", "")
        self.calls.append(Call(method, args, authorization=auth))
        error = (self.failures.get(method) or self.refused_channels.get(args.get("channel", ""))
                 or self.refuse(method, args) or refused_markdown(method, args))
        if error:
            return web.json_response({"ok": False, "error": error})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response({"ok": True, **handler(args)})

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://test.slack.com/", "team": "Test", "user": "firstline",
                "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self.next_ts()
        message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts,
                   "text": args.get("text") or args.get("markdown_text", ""),
                   "blocks": _blocks(args)}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        self.messages.setdefault(args["channel"], []).append(message)
        self.statuses.pop((args["channel"], args.get("thread_ts", "")), None)  # a reply clears it
        return {"channel": args["channel"], "ts": ts, "message": message}

    # -- streamed messages (chat.startStream / appendStream / stopStream) ----------------------
    def _chat_startStream(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel", "")
        if not channel or not args.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        outside_dm = not channel.startswith("D")
        if outside_dm and not (args.get("recipient_user_id") and args.get("recipient_team_id")):
            return {"ok": False, "error": "invalid_arguments"}  # required when not in a DM
        response = self._chat_postMessage({"channel": channel, "thread_ts": args["thread_ts"],
                                           "text": _streamed_text(args)})
        response["message"].update(streaming=True, started=time.monotonic())
        return {"channel": channel, "ts": response["ts"]}

    def _chat_appendStream(self, args: dict[str, Any]) -> dict[str, Any]:
        message, error = self._streaming(args)
        if message is None:
            return {"ok": False, "error": error}
        message["text"] += _streamed_text(args)
        return {"channel": args["channel"], "ts": args["ts"]}

    def _chat_stopStream(self, args: dict[str, Any]) -> dict[str, Any]:
        message, error = self._streaming(args)
        if message is None:
            return {"ok": False, "error": error}
        message["text"] += _streamed_text(args)
        message["blocks"] = _blocks(args)
        message["streaming"] = False
        return {"channel": args["channel"], "ts": args["ts"], "message": message}

    def _streaming(self, args: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        """The streamed message ``args`` names, if it still accepts text (else Slack's error)."""
        message = self._message(args.get("channel", ""), args.get("ts", ""))
        if message is None:
            return None, "message_not_found"
        if not message.get("streaming"):
            return None, "message_not_in_streaming_state"
        if time.monotonic() - message["started"] > self.stream_expiry:
            message["streaming"] = False
            return None, "message_not_in_streaming_state"
        return message, ""

    def _message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    # -- the assistant (agent) thread ------------------------------------------------------------
    def _assistant_threads_setStatus(self, args: dict[str, Any]) -> dict[str, Any]:
        if not (args.get("channel_id") and args.get("thread_ts")) or "status" not in args:
            return {"ok": False, "error": "invalid_arguments"}
        self.statuses[(args["channel_id"], args["thread_ts"])] = args["status"]
        return {}

    def _assistant_threads_setSuggestedPrompts(self, args: dict[str, Any]) -> dict[str, Any]:
        prompts = _json_list(args.get("prompts"))
        well_formed = all({"title", "message"} <= set(p) for p in prompts)
        if not args.get("channel_id") or not 1 <= len(prompts) <= 4 or not well_formed:
            return {"ok": False, "error": "invalid_arguments"}
        self.prompts[(args["channel_id"], args.get("thread_ts", ""))] = {
            "title": args.get("title"), "prompts": prompts}
        return {}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        for message in self.messages.get(args["channel"], []):
            if message["ts"] == args["ts"]:
                message["text"] = args.get("text") or args.get("markdown_text", "")
                message["blocks"] = _blocks(args)
        return {"channel": args["channel"], "ts": args["ts"], "text": args.get("text", "")}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._message(args.get("channel", ""), args.get("message_ts", ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        stamp = message['ts'].replace('.', '')
        link = f"https://test.slack.com/archives/{args['channel']}/p{stamp}"
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            link += f"?thread_ts={message['thread_ts']}&cid={args['channel']}"
        return {"channel": args["channel"], "permalink": link}

    def _reactions_add(self, _: dict[str, Any]) -> dict[str, Any]:
        return {}

    _reactions_remove = _reactions_add

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        thread = sorted(self.in_thread(args["channel"], args["ts"]), key=lambda m: float(m["ts"]))
        return {"messages": thread, "has_more": False}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": {"id": "D" + str(args["users"]).lstrip("U")}}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        if args["usergroup"] in self.failing_usergroups:
            return {"ok": False, "error": "ratelimited"}
        return {"users": self.usergroups.get(args["usergroup"], [])}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args["user"]
        if user not in self.emails and user not in self.locales and user not in self.names:
            return {"ok": False, "error": "user_not_found"}
        found: dict[str, Any] = {"id": user, "profile": {"email": self.emails.get(user),
                                                         "display_name": self.names.get(user)}}
        if str(args.get("include_locale")).lower() in ("true", "1"):
            found["locale"] = self.locales.get(user, "en-US")
        return {"user": found}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"view": {"id": "V0VIEW"}}

    def _apps_connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.url.replace("http://", "ws://") + "/link"}

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(Call(request.match_info["name"], await request.json()))
        return web.Response(text="ok")

    # -- Socket Mode -----------------------------------------------------------------------
    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": APP_ID}})
        self._socket_ready.set()
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.socket_received.append((time.perf_counter(), json.loads(msg.data)))
        return ws

    async def socket_send(self, envelope: dict[str, Any]) -> float:
        await asyncio.wait_for(self._socket_ready.wait(), 5)
        assert self._socket is not None
        sent = time.perf_counter()
        await self._socket.send_json(envelope)
        return sent

    def socket_ack(self, envelope_id: str) -> dict[str, Any] | None:
        return next((m for _, m in self.socket_received if m.get("envelope_id") == envelope_id),
                    None)


async def _arguments(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        args.update(await request.json())
    else:
        args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    return args


MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral",
                             "chat.stopStream", "chat.scheduleMessage"})
MARKDOWN_LIMIT = 12_000  # all the markdown blocks of one message together


def refused_markdown(method: str, args: dict[str, Any]) -> str | None:
    """Slack's error for the markdown blocks or ``markdown_text`` of a call, if any."""
    if args.get("markdown_text") and method in ("chat.postMessage", "chat.update") and (
            args.get("text") or args.get("blocks")):
        return "invalid_arguments"  # markdown_text goes alone
    view = args.get("view")
    blocks = (_json_list((json.loads(view) if isinstance(view, str) else view).get("blocks"))
              if view else _blocks(args))
    markdown = [b for b in blocks if b.get("type") == "markdown"]
    if not markdown:
        return None
    texts = [b.get("text") for b in markdown]
    well_formed = all(isinstance(t, str) and t for t in texts) and all(
        set(b) <= {"type", "text", "block_id"} for b in markdown)
    too_long = sum(len(t) for t in texts if isinstance(t, str)) > MARKDOWN_LIMIT
    if method not in MESSAGE_METHODS or not well_formed or too_long:
        return "invalid_blocks"
    return None


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    return _json_list(args.get("blocks"))


def _json_list(value: Any) -> list[dict[str, Any]]:
    value = value or []
    return json.loads(value) if isinstance(value, str) else list(value)


def _streamed_text(args: dict[str, Any]) -> str:
    """The Markdown a stream call adds: ``markdown_text`` and/or ``markdown_text`` chunks."""
    pieces = [args.get("markdown_text") or ""]
    pieces += [c.get("text", "") for c in _json_list(args.get("chunks"))
               if c.get("type") == "markdown_text"]
    return "".join(pieces)


# -- what Slack sends to the app ------------------------------------------------------------
_event_ids = itertools.count(1)


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {"token": "legacy", "team_id": TEAM, "api_app_id": APP_ID, "type": "event_callback",
            "event": {**event, "event_ts": event.get("ts", "")},
            "event_id": event_id or f"Ev{next(_event_ids):08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}


def mention_event(message: dict[str, Any], channel: str) -> dict[str, Any]:
    return {**message, "type": "app_mention", "channel": channel}


def dm_event(message: dict[str, Any], channel: str) -> dict[str, Any]:
    return {**message, "type": "message", "channel": channel, "channel_type": "im"}


def channel_message_event(message: dict[str, Any], channel: str) -> dict[str, Any]:
    return {**message, "type": "message", "channel": channel, "channel_type": "channel"}


def assistant_thread_event(kind: str, user: str, channel: str, thread_ts: str) -> dict[str, Any]:
    """``assistant_thread_started`` / ``_context_changed``: someone opened the agent view."""
    return {"type": kind, "assistant_thread": {
        "user_id": user, "channel_id": channel, "thread_ts": thread_ts,
        "context": {"channel_id": "C0HELP", "team_id": TEAM, "enterprise_id": None}}}


def slash_command(text: str, user: str, channel: str, response_url: str) -> dict[str, str]:
    return {"token": "legacy", "team_id": TEAM, "team_domain": "test", "channel_id": channel,
            "channel_name": "helpdesk", "user_id": user, "user_name": user.lower(),
            "command": "/firstline", "text": text, "api_app_id": APP_ID,
            "response_url": response_url, "trigger_id": "1337.42.abcd"}


def block_action(action_id: str, value: str, user: str, channel: str, message: dict[str, Any],
                 response_url: str, element: str = "button") -> dict[str, Any]:
    return {"type": "block_actions", "team": {"id": TEAM}, "api_app_id": APP_ID,
            "user": {"id": user, "team_id": TEAM}, "channel": {"id": channel},
            "container": {"type": "message", "channel_id": channel, "message_ts": message["ts"]},
            "message": message, "trigger_id": "1337.42.efgh", "response_url": response_url,
            "actions": [{"type": element, "action_id": action_id, "value": value,
                         "block_id": "firstline_feedback", "action_ts": str(time.time())}]}


def feedback_click(vote: str, user: str, channel: str, message: dict[str, Any],
                   response_url: str, answer_id: str | None = None) -> dict[str, Any]:
    """A click on the 👍 (``vote="up"``) or 👎 of the feedback buttons in ``message``'s blocks
    (with ``answer_id``: as if they carried that id)."""
    [buttons] = [e for b in message["blocks"] if b["type"] == "context_actions"
                 for e in b["elements"] if e["type"] == "feedback_buttons"]
    value = buttons["positive_button" if vote == "up" else "negative_button"]["value"]
    if answer_id is not None:
        value = f"{vote}:{answer_id}"
    return block_action(buttons["action_id"], value, user, channel, message, response_url,
                        element="feedback_buttons")


def view_submission(view: dict[str, Any], user: str, reason: str) -> dict[str, Any]:
    state = {"values": {"reason": {"reason_input": {"type": "plain_text_input", "value": reason}}}}
    return {"type": "view_submission", "team": {"id": TEAM}, "api_app_id": APP_ID,
            "user": {"id": user, "team_id": TEAM}, "trigger_id": "1337.42.ijkl",
            "view": {**view, "id": "V0VIEW", "state": state}}


class SignedSender:
    """Posts to the app's ``/slack/events`` as Slack does: signed with the signing secret."""

    def __init__(self, url: str, session: aiohttp.ClientSession, secret: str = SECRET) -> None:
        self.url = url
        self.session = session
        self.verifier = SignatureVerifier(secret)

    def headers(self, body: str, timestamp: int | None = None,
                content_type: str = "application/json") -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.verifier.generate_signature(timestamp=ts, body=body) or ""
        return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": signature}

    async def post(self, body: str, headers: dict[str, str]) -> tuple[int, str, float]:
        started = time.perf_counter()
        async with self.session.post(self.url, data=body.encode(), headers=headers) as resp:
            text = await resp.text()
        return resp.status, text, time.perf_counter() - started

    async def event(self, payload: dict[str, Any], *, retry: tuple[int, str] | None = None,
                    timestamp: int | None = None) -> tuple[int, str, float]:
        body = json.dumps(payload)
        headers = self.headers(body, timestamp)
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry[0]), "X-Slack-Retry-Reason": retry[1]}
        return await self.post(body, headers)

    async def form(self, fields: dict[str, str]) -> tuple[int, str, float]:
        body = urlencode(fields)
        return await self.post(body, self.headers(body, content_type=_FORM))

    async def interaction(self, payload: dict[str, Any]) -> tuple[int, str, float]:
        return await self.form({"payload": json.dumps(payload)})


_FORM = "application/x-www-form-urlencoded"


# -- the app under test ----------------------------------------------------------------------
def slack_settings(standin: SlackStandIn) -> SlackSettings:
    """Settings pointing the adapter at ``standin``; U0ADMIN and group S0ADMINS are admins."""
    return SlackSettings(bot_token=BOT_TOKEN, signing_secret=SECRET, app_token=APP_TOKEN,
                         api_url=standin.api_url, admin_users=(ADMIN,),
                         admin_groups=(ADMIN_GROUP,))


@dataclass
class Running:
    """The Slack app served over HTTP, and a signed client for its /slack/events."""

    app: AsyncApp
    url: str
    slack: SignedSender
