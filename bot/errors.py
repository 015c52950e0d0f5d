"""The whole error picture, in one place.

* :class:`UserFacingError` — its message is written for the person who asked and is shown as is
  ("a reindex is already running", "that question is empty").
* Anything else is a bug or an outage: it is logged with its traceback under a short reference
  id, and the user sees only an apology carrying that id (:func:`apology`). Exception text never
  reaches a chat.
"""

from __future__ import annotations

import logging
import secrets

from bot.types import Language

log = logging.getLogger(__name__)


class FirstlineError(Exception):
    """Base of firstline's own exceptions."""


class UserFacingError(FirstlineError):
    """An error whose message is meant for the user, in plain words."""


class ModelUnavailableError(FirstlineError):
    """The local model file is missing or broken."""


class CloudError(FirstlineError):
    """The cloud LLM could not give an answer (after retries)."""


class HandoffError(FirstlineError):
    """A hand-off could not be delivered; the message is one line naming the target and why."""


def new_reference() -> str:
    """A short id users can quote to the helpdesk; it appears in the log line too."""
    return secrets.token_hex(4)


def apology(reference: str, language: Language = "en") -> str:
    if language == "ja":
        return f"申し訳ありません、回答中にエラーが発生しました(参照ID: {reference})。"
    return f"Sorry, something went wrong while answering (reference {reference})."


def describe(exc: BaseException, language: Language = "en") -> tuple[str, str]:
    """Turn any exception into (text for the user, reference id), logging non-user errors."""
    reference = new_reference()
    if isinstance(exc, UserFacingError):
        return str(exc), reference
    log.error("unhandled error, reference %s", reference, exc_info=exc)
    return apology(reference, language), reference


def not_answered(language: Language = "en") -> tuple[str, str]:
    """(text, button label) for a question the bot gave up on after replicas failed it."""
    if language == "ja":
        return ("申し訳ありません。システムの問題により、このご質問に回答できませんでした。"
                "「もう一度質問する」を押すと、同じ質問をもう一度送れます。", "もう一度質問する")
    return ("Sorry, I could not answer this question because of a problem on my side. "
            "Press “Ask again” to send the same question once more.", "Ask again")
