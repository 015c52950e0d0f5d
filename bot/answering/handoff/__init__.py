"""The hand-off to people: "Ask a person" / 「担当者に聞く」 on an answer.

An adapter turns the click into a :class:`bot.types.HandoffAsk` (the question and answer as
the asker saw them, the asker, a link to the thread) and calls ``Responder.handoff``. The
core's :class:`~bot.answering.handoff.desk.HandoffDesk` then

1. marks the answer's ledger row handed off (once: a second click is told it already was),
2. builds the :class:`bot.types.HandoffRequest` (:mod:`.prepare`): the texts redacted as
   before a cloud request (``FIRSTLINE_HANDOFF_REDACT``, the company patterns), sources named
   by title only, and nothing from a document the helpdesk's audience may not read,
3. gives it to the one :class:`bot.types.HandoffTarget` (a webhook, :mod:`.webhook`; or the
   Slack / Teams helpdesk channel, which the adapters attach when they are mounted),
4. records where it went (the helpdesk thread, a ticket number) on the row, for promotion,
   and tells the asker who will reply (``FIRSTLINE_HANDOFF_TEAM``, EN/JA). A failed delivery
   releases the mark, so the asker can press the button again.
"""

from bot.answering.handoff.desk import HandoffDesk, Offer
from bot.answering.handoff.prepare import prepare_request
from bot.answering.handoff.webhook import WebhookTarget, webhook_from_settings

__all__ = ["HandoffDesk", "Offer", "WebhookTarget", "prepare_request", "webhook_from_settings"]
