"""Entities Teams reads on a bot's message, built by hand (botbuilder-python has no helpers).

* ``streaminfo``: where an activity sits in a streamed message (``streamType`` informative,
  streaming or final; ``streamSequence``; the ``streamId`` the first activity's reply returned);
* the ``https://schema.org/Message`` entity: the "AI generated" label
  (``additionalType: ["AIGeneratedContent"]``) and the citations (``Claim`` objects whose
  ``position`` matches a ``[n]`` marker in the message text);
* ``channelData.feedbackLoopEnabled``: Teams' own 👍/👎 under the message, which come back as
  a ``message/submitAction`` invoke (see :func:`native_feedback`).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from botbuilder.schema import Activity, Entity

from bot.types import Source

MESSAGE_ENTITY = "https://schema.org/Message"
MAX_CITATIONS = 20  # Teams refuses more
NAME_LIMIT, ABSTRACT_LIMIT = 80, 160
StreamType = Literal["informative", "streaming", "final"]


class RawEntity(Entity):
    """An entity serialized with all its fields (botbuilder's ``Entity`` keeps only ``type``)."""

    _attribute_map = {"type": {"key": "type", "type": "str"},
                      "additional_properties": {"key": "", "type": "{object}"}}

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__(type=fields["type"])
        self.additional_properties = {k: v for k, v in fields.items() if k != "type"}


def stream_entity(kind: StreamType, sequence: int | None = None,
                  stream_id: str | None = None) -> RawEntity:
    fields: dict[str, Any] = {"type": "streaminfo", "streamType": kind}
    if sequence is not None:
        fields["streamSequence"] = sequence
    if stream_id:
        fields["streamId"] = stream_id
    return RawEntity(fields)


def citations(sources: tuple[Source, ...]) -> list[dict[str, Any]]:
    """One ``Claim`` per source, numbered from 1 (the ``[n]`` markers of :func:`markers`)."""
    return [_claim(position, source)
            for position, source in enumerate(sources[:MAX_CITATIONS], start=1)]


def markers(sources: tuple[Source, ...]) -> str:
    """The in-text references Teams turns into citation pills: ``[1] [2]``."""
    return " ".join(f"[{n}]" for n in range(1, min(len(sources), MAX_CITATIONS) + 1))


def message_entity(sources: tuple[Source, ...]) -> RawEntity:
    """The AI label and the citations of an answer."""
    fields: dict[str, Any] = {"type": MESSAGE_ENTITY, "@type": "Message",
                              "@context": "https://schema.org", "@id": "",
                              "additionalType": ["AIGeneratedContent"]}
    if sources:
        fields["citation"] = citations(sources)
    return RawEntity(fields)


def mark_answer(activity: Activity, sources: tuple[Source, ...]) -> Activity:
    """Label ``activity`` as AI generated, cite ``sources`` and turn on Teams' feedback loop."""
    activity.entities = [*(activity.entities or []), message_entity(sources)]
    channel_data = dict(activity.channel_data or {})
    channel_data["feedbackLoopEnabled"] = True
    activity.channel_data = channel_data
    return activity


def native_feedback(value: Any) -> tuple[Literal["up", "down"], str] | None:
    """(vote, reason) from a ``message/submitAction`` invoke's value, or None if it is not one.

    Teams sends ``{"actionName": "feedback", "actionValue": {"reaction": "like"|"dislike",
    "feedback": "{\\"feedbackText\\": \\"...\\"}"}}`` (the form's text as a JSON string).
    """
    if not isinstance(value, dict) or value.get("actionName") != "feedback":
        return None
    action = value.get("actionValue")
    if not isinstance(action, dict) or action.get("reaction") not in ("like", "dislike"):
        return None
    vote: Literal["up", "down"] = "up" if action["reaction"] == "like" else "down"
    return vote, _feedback_text(action.get("feedback"))[:500]


def _feedback_text(feedback: Any) -> str:
    if isinstance(feedback, str):
        try:
            feedback = json.loads(feedback)
        except ValueError:
            return feedback.strip()
    if isinstance(feedback, dict):
        return str(feedback.get("feedbackText") or "").strip()
    return ""


def _claim(position: int, source: Source) -> dict[str, Any]:
    name = source.title or source.path
    abstract = source.heading if source.heading and source.heading != name else source.path
    appearance: dict[str, Any] = {"@type": "DigitalDocument", "name": _cut(name, NAME_LIMIT),
                                  "abstract": _cut(abstract, ABSTRACT_LIMIT)}
    if source.url:
        appearance["url"] = source.url
    return {"@type": "Claim", "position": position, "appearance": appearance}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
