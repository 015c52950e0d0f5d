"""Step: refuse empty and over-long questions politely (a user-facing error, still one row)."""

from __future__ import annotations

from bot.answering.record import AnswerRecord
from bot.errors import UserFacingError


class Validate:
    """Empty or longer than ``max_chars``: a :class:`UserFacingError` in the asker's language."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars

    async def __call__(self, answer: AnswerRecord) -> None:
        text, ja = answer.question.text, answer.language == "ja"
        if not text:
            raise UserFacingError(
                "ご質問の内容を入力してください。"
                if ja
                else "Please type a question, e.g. “How do I reset my VPN password?”")
        if len(text) > self.max_chars:
            raise UserFacingError(
                f"ご質問が長すぎます({len(text)}文字)。{self.max_chars}文字以内にまとめてください。"
                if ja
                else f"That question is too long ({len(text)} characters); "
                f"please keep it under {self.max_chars} characters.")
