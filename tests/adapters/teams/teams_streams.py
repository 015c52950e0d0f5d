"""The Bot Connector stand-in's streaming rules, as Teams documents them ("Stream bot messages",
"Bot messages with AI-generated content" on Microsoft Learn).

* A stream starts with a ``typing`` activity carrying a ``streaminfo`` entity with
  ``streamType`` ``informative`` or ``streaming``, ``streamSequence`` 1 and text; the reply
  (201) is ``{"id": <streamId>}``.
* Then ``typing`` activities with the same ``streamId`` and an increasing ``streamSequence``;
  streamed text is cumulative: each chunk contains the previously streamed text.
* It ends with a ``message`` whose ``streaminfo`` entity has ``streamType: final``, the
  ``streamId`` and no ``streamSequence``. Nothing more may be sent on that stream.
* Personal (1:1) chats only, one stream at a time per chat, two minutes at most.

Teams' answers: 400 ``BadRequest`` for a malformed payload, 403 ``ContentStreamNotAllowed``
for a stream that is not allowed (not a 1:1 chat, an already completed stream, a chunk that
drops the streamed text, time exceeded), and 202 ``ContentStreamSequenceOrderPreConditionFailed``
for a chunk out of order (dropped). A second concurrent stream in a chat is refused with 403
``ContentStreamNotAllowed`` too (the docs state the rule, not the code).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

MESSAGE_ENTITY = "https://schema.org/Message"
STREAM_LIMIT_SECONDS = 120.0
MAX_CITATIONS = 20
NOT_ALLOWED = "ContentStreamNotAllowed"
OUT_OF_ORDER = "ContentStreamSequenceOrderPreConditionFailed"


class Refused(Exception):
    """What Teams answers instead of accepting the activity."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message

    @property
    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass
class Stream:
    id: str
    sequence: int
    text: str = ""  # the streamed (not informative) text so far
    started: float = field(default_factory=time.monotonic)
    chunks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StreamRules:
    """Per-conversation stream state; :meth:`check` raises :class:`Refused` or returns the reply."""

    active: dict[str, Stream] = field(default_factory=dict)
    completed: dict[str, Stream] = field(default_factory=dict)
    limit_seconds: float = STREAM_LIMIT_SECONDS

    def check(self, conversation: str, activity: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        check_message_entities(activity)
        info = stream_info(activity)
        if info is None:
            return 200, {"id": uuid.uuid4().hex}
        if not is_personal(activity):
            raise Refused(403, NOT_ALLOWED, "Content stream is not allowed")
        kind = info.get("streamType", "streaming")
        if kind == "final":
            return self._final(conversation, activity, info)
        if kind not in ("informative", "streaming"):
            raise Refused(400, "BadRequest", f"Unknown streamType {kind!r}")
        if activity.get("type") != "typing":
            raise Refused(400, "BadRequest", "Streaming activities must be of type typing")
        if not info.get("streamId"):
            return self._start(conversation, activity, info)
        return self._continue(conversation, activity, info)

    # the three steps ----------------------------------------------------------------------
    def _start(self, conversation: str, activity: dict[str, Any],
               info: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if conversation in self.active:
            raise Refused(403, NOT_ALLOWED, "Another content stream is active in this chat")
        if info.get("streamSequence") != 1:
            raise Refused(400, "BadRequest", "The first streamSequence must be 1")
        if not activity.get("text"):
            raise Refused(400, "BadRequest", "Start streaming activities should include text")
        stream = Stream(uuid.uuid4().hex, 1)
        self._take_text(stream, activity, info)
        self.active[conversation] = stream
        return 201, {"id": stream.id}

    def _continue(self, conversation: str, activity: dict[str, Any],
                  info: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        stream = self._stream(conversation, info)
        sequence = info.get("streamSequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            raise Refused(400, "BadRequest", "streamSequence is required while streaming")
        if sequence <= stream.sequence:
            raise Refused(202, OUT_OF_ORDER,
                          "PreCondition failed exception when processing streaming activity.")
        if not activity.get("text"):
            raise Refused(400, "BadRequest", "Streaming activities should include text")
        stream.sequence = sequence
        self._take_text(stream, activity, info)
        return 202, {}

    def _final(self, conversation: str, activity: dict[str, Any],
               info: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if activity.get("type") != "message":
            raise Refused(400, "BadRequest", "The final streaming activity must be a message")
        if "streamSequence" in info:
            raise Refused(400, "BadRequest", "streamSequence must not be set on the final message")
        if not (activity.get("text") or activity.get("attachments")):
            raise Refused(400, "BadRequest", "The final message has no content")
        stream = self._stream(conversation, info)
        stream.chunks.append(activity)
        self.completed[stream.id] = self.active.pop(conversation)
        return 202, {}

    # helpers ------------------------------------------------------------------------------
    def _stream(self, conversation: str, info: dict[str, Any]) -> Stream:
        stream_id = info.get("streamId")
        if stream_id in self.completed:
            raise Refused(403, NOT_ALLOWED,
                          "Content stream is not allowed on an already completed streamed message")
        stream = self.active.get(conversation)
        if stream is None or stream.id != stream_id:
            raise Refused(400, "BadRequest", f"Unknown streamId {stream_id!r}")
        if time.monotonic() - stream.started > self.limit_seconds:
            self.completed[stream.id] = self.active.pop(conversation)
            raise Refused(403, NOT_ALLOWED,
                          "Content stream finished due to exceeded streaming time.")
        return stream

    @staticmethod
    def _take_text(stream: Stream, activity: dict[str, Any], info: dict[str, Any]) -> None:
        if info.get("streamType", "streaming") == "streaming":
            text = str(activity.get("text") or "")
            if not text.startswith(stream.text):
                raise Refused(403, NOT_ALLOWED, "Request streamed content should contain the "
                                                "previously streamed content")
            stream.text = text
        stream.chunks.append(activity)


def stream_info(activity: dict[str, Any]) -> dict[str, Any] | None:
    found = [e for e in activity.get("entities") or [] if e.get("type") == "streaminfo"]
    if len(found) > 1:
        raise Refused(400, "BadRequest", "More than one streaminfo entity")
    return dict(found[0]) if found else None


def is_personal(activity: dict[str, Any]) -> bool:
    conversation = activity.get("conversation") or {}
    return conversation.get("conversationType") in (None, "", "personal")


def check_message_entities(activity: dict[str, Any]) -> None:
    """The ``https://schema.org/Message`` entity: the AI label and the citations."""
    roots = [e for e in activity.get("entities") or [] if e.get("type") == MESSAGE_ENTITY]
    if len(roots) > 1:
        raise Refused(400, "BadRequest", "Multiple root message entities found under entities")
    if not roots:
        return
    root = roots[0]
    if root.get("@type") != "Message" or root.get("@context") != "https://schema.org":
        raise Refused(400, "BadRequest", "Error parsing message entity from entities array")
    if any(t != "AIGeneratedContent" for t in root.get("additionalType") or []):
        raise Refused(400, "BadRequest", "Error parsing message entity from entities array")
    citations = root.get("citation") or []
    if len(citations) > MAX_CITATIONS:
        raise Refused(400, "BadRequest", "Bot message with more than 20 citations")
    for citation in citations:
        check_citation(citation)


def check_citation(citation: dict[str, Any]) -> None:
    position = citation.get("position")
    appearance = citation.get("appearance") or {}
    if citation.get("@type") != "Claim" or not isinstance(position, int):
        raise Refused(400, "BadRequest", f"Error while parsing citation entity with ID: {position}")
    if not appearance:
        raise Refused(400, "BadRequest", "The appearance object is empty")
    name = appearance.get("name")
    if (appearance.get("@type") != "DigitalDocument" or not isinstance(name, str) or not name
            or len(name) > 80 or len(appearance.get("abstract") or "") > 160):
        raise Refused(400, "BadRequest", f"Error while parsing citation entity with ID: {position}")
