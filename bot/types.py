"""The core's vocabulary: what adapters hand in and what they get back.

Adapters (Slack, Teams, the CLI) turn a platform message into a frozen :class:`Question`
and render the :class:`Reply`. Nothing in here knows about any chat SDK.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

Language = Literal["en", "ja"]
Channel = Literal["cli", "slack", "teams", "eval"]
Where = Literal["dm", "channel"]
HandoffOffer = Literal["", "now", "after-down"]


class Route(StrEnum):
    """Where an answer came from."""

    LOCAL = "local"
    CLOUD = "cloud"
    CACHE = "cache"
    APPROVED = "approved"  # an admin-approved answer (bot.answering.approved)
    DECLINED = "declined"
    LOCAL_FALLBACK = "local-fallback"
    FAILED = "failed"
    COMMAND = "command"


@dataclass(frozen=True)
class Turn:
    """One earlier message of the conversation (thread history)."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class Question:
    """A user's message, already stripped of platform markup (mentions etc.)."""

    text: str
    user: str = "anonymous"
    conversation: str = ""
    channel: Channel = "cli"
    is_admin: bool = False
    language: Language | None = None  # None: detect from the text
    history: tuple[Turn, ...] = ()
    id: str | None = None  # caller-supplied id (batch files); the answer id is separate
    groups: frozenset[str] = frozenset()  # the asker's groups (document audiences)
    email: str = ""  # for the directory lookup only; never logged or stored
    # a direct message / personal chat (or an ephemeral reply), or a shared channel / group
    # chat, where only documents with no audience are used
    where: Where = "dm"


@dataclass(frozen=True)
class Source:
    """A retrieved document passage, ranked."""

    path: str
    title: str
    score: float
    heading: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    """What the core answers. Adapters render ``text`` and ``sources``."""

    text: str
    answer_id: str
    route: Route = Route.LOCAL
    reason: str = ""
    covered: bool = True
    language: Language = "en"
    sources: tuple[Source, ...] = ()
    cited: tuple[str, ...] = ()
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    models: tuple[str, ...] = ()
    signals: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, dict[str, int]] = field(default_factory=dict)
    error: str | None = None  # a reference id when the answer failed
    notice: str | None = None  # e.g. "answered on-prem: cloud budget reached"
    # "Ask a person": offered under the answer ("now"), after a 👎 ("after-down"), or not ("")
    handoff: HandoffOffer = ""

    @property
    def cited_sources(self) -> tuple[Source, ...]:
        """The sources the answer cites, in rank order (all sources when none are cited)."""
        wanted = [s for s in self.sources if s.path in self.cited]
        return tuple(wanted)


class Notify(Protocol):
    """Posts a follow-up message (reindex progress, summary) back to the asker's conversation."""

    async def __call__(self, text: str) -> None: ...


# -- hand-off to people ------------------------------------------------------------------------
@dataclass(frozen=True)
class HandoffAsk:
    """An asker's "Ask a person" on an answer, with what only the adapter knows."""

    answer_id: str
    question: str
    answer: str
    asker: str  # the asker's platform id (Slack user id, Teams AAD object id)
    asker_name: str = ""  # the display name, where the adapter knows it
    channel: Channel = "cli"
    thread_link: str = ""  # where the asker's conversation is (a Slack permalink …)
    language: Language = "en"


HandoffStatus = Literal["sent", "already", "unknown", "failed", "off"]


@dataclass(frozen=True)
class HandoffResult:
    """What became of a hand-off, and what to tell the asker (in their language)."""

    status: HandoffStatus
    text: str
    reference: str = ""  # where it went: the helpdesk thread, a ticket number


@dataclass(frozen=True)
class HandoffSource:
    """A document the answer drew on, named for the helpdesk (titles only, never its text)."""

    title: str
    path: str


@dataclass(frozen=True)
class HandoffRequest:
    """What a helpdesk receives: texts redacted per settings, no restricted document named.

    ``answer`` is empty (and ``answer_withheld`` True) when the bot's answer quoted a document
    the helpdesk may not read; ``withheld`` counts the sources left unnamed for that reason.
    """

    answer_id: str
    question: str
    answer: str
    asker: str
    asker_name: str
    channel: Channel
    thread_link: str
    language: Language
    route: str
    reason: str
    created_at: str  # ISO 8601 UTC, when the asker asked for a person
    sources: tuple[HandoffSource, ...] = ()
    withheld: int = 0
    answer_withheld: bool = False
    redacted: dict[str, int] = field(default_factory=dict)  # kind -> how many were masked


@dataclass(frozen=True)
class Promotion:
    """An admin's "Promote reply to approved answer" in a helpdesk thread."""

    reference: str  # the helpdesk thread or ticket (HandoffResult.reference)
    question: str  # the question as the hand-off carried it
    answer: str  # the helpdesk's reply
    by: str  # who promotes, as the platform names them
    is_admin: bool = False


@dataclass(frozen=True)
class PromotionResult:
    """The approved answer made ("" when none was), and what to tell the helpdesk."""

    approved_id: str
    text: str


class HandoffTarget(Protocol):
    """Where hand-offs go (a helpdesk channel, a ticketing webhook), with its lifecycle."""

    name: str  # e.g. "webhook", "slack:C0HELPDESK"; stored in the ledger row

    async def post(self, request: HandoffRequest) -> str:
        """Deliver ``request``; the reference of what was created (a thread, a ticket), or "".
        Raises :class:`bot.errors.HandoffError` (one line, no secrets) when it could not."""
        ...

    async def aclose(self) -> None: ...


class Responder(Protocol):
    """The core's one seam towards adapters.

    ``handle`` answers questions and also runs admin commands (``reindex``, ``status``,
    ``costs``, ``help``) when the text is one; long commands report through ``notify``.
    """

    async def handle(self, question: Question, notify: Notify | None = None) -> Reply: ...

    async def feedback(
        self, answer_id: str, user: str, vote: Literal["up", "down"], reason: str = ""
    ) -> None: ...

    async def handoff(self, ask: HandoffAsk) -> HandoffResult:
        """Pass an answered question to people (the configured :class:`HandoffTarget`)."""
        ...

    async def promote(self, promotion: Promotion) -> PromotionResult:
        """Make the helpdesk's reply to a hand-off an approved answer (admins only)."""
        ...


# -- streaming ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Status:
    """A transient line about what the core is doing ("Searching the documents…"); not part of
    the answer. Show it until the next text (or the end of the stream)."""

    text: str


@dataclass(frozen=True)
class TextDelta:
    """Append ``text`` to the answer shown so far."""

    text: str


@dataclass(frozen=True)
class Replace:
    """Discard the answer shown so far and show ``text`` instead (a rejected draft, the cloud's
    answer taking over, the final text differing from what was streamed)."""

    text: str


@dataclass(frozen=True)
class Final:
    """The last event: the finished :class:`Reply`. The text shown by then (the deltas and
    replacements applied in order) equals ``reply.text``."""

    reply: Reply


StreamEvent = Status | TextDelta | Replace | Final


class StreamingResponder(Responder, Protocol):
    """A :class:`Responder` that can also show the answer as it is written."""

    def stream(self, question: Question,
               notify: Notify | None = None) -> AsyncIterator[StreamEvent]:
        """The answer as events: any :class:`Status`, :class:`TextDelta` and :class:`Replace`,
        then exactly one :class:`Final`. Same pipeline and ledger row as :meth:`handle`."""
        ...
