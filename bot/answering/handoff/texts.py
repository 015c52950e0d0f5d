"""What the asker is told about a hand-off, and the button's label, in English and Japanese."""

from __future__ import annotations

from bot.types import HandoffStatus, Language

BUTTON: dict[Language, str] = {"en": "Ask a person", "ja": "担当者に聞く"}

_TOLD: dict[HandoffStatus, dict[Language, str]] = {
    "sent": {"en": "I've passed your question to {team}. Someone from {team} will reply to "
                   "you.",
             "ja": "ご質問を{team}に引き継ぎました。{team}の担当者から連絡があります。"},
    "already": {"en": "This question was already passed to {team}.",
                "ja": "このご質問はすでに{team}に引き継ぎ済みです。"},
    "failed": {"en": "Sorry, I could not pass your question to {team} just now. Please press "
                     "“Ask a person” again in a moment.",
               "ja": "申し訳ありません。ただいま{team}に引き継げませんでした。しばらくしてから"
                     "もう一度「担当者に聞く」を押してください。"},
    "unknown": {"en": "That answer is too old to pass on; please ask your question again.",
                "ja": "この回答は古いため引き継げません。もう一度質問してください。"},
    "off": {"en": "Passing questions to a person is not set up here.",
            "ja": "担当者への引き継ぎはここでは設定されていません。"},
}


def told(status: HandoffStatus, language: Language, team: str) -> str:
    """The sentence for ``status``, naming ``team`` (already in ``language``)."""
    return _TOLD[status][language].format(team=team)


WITHHELD: dict[Language, str] = {
    "en": "(The answer drew on a document the helpdesk may not read; it is not included. "
          "Ask the person for the details.)",
    "ja": "(回答はヘルプデスクが閲覧できない文書に基づくため、ここには含めていません。"
          "詳細は質問者にご確認ください。)",
}
