"""Text both ways: Slack's markup into the plain question, and Markdown into mrkdwn for the
places Slack reads mrkdwn only (a message's ``text`` fallback); answers themselves go to Slack as
Markdown (a ``markdown`` block, ``markdown_text``, a stream)."""

from __future__ import annotations

import re

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def question_text(text: str, bot_user_id: str | None) -> str:
    """The question as the user meant it: without the bot's mention and Slack's markup."""
    def user(match: re.Match[str]) -> str:
        if match.group(1) == bot_user_id:
            return ""
        return "@" + (match.group(2) or match.group(1))

    out = _USER.sub(user, text)
    out = _CHANNEL.sub(r"#\1", out)
    out = _SPECIAL.sub(r"@\1", out)
    out = _SUBTEAM.sub(lambda m: "@" + (m.group(1) or "group").lstrip("@"), out)
    out = _LINK.sub(_plain_link, out)
    out = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"\s+", " ", out).strip().lstrip(":,").strip()


def _plain_link(match: re.Match[str]) -> str:
    url, label = match.group(1), match.group(2)
    if url.startswith("mailto:"):
        return label or url.removeprefix("mailto:")
    return url if not label or label == url else f"{label} ({url})"


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and f"<@{user_id}" in text


def looks_japanese(text: str) -> bool:
    return bool(_JAPANESE.search(text))


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.M)
_BULLET = re.compile(r"^(\s*)[*+-]\s+", re.M)
_FENCE = re.compile(r"(```.*?```)", re.S)


def to_mrkdwn(markdown: str) -> str:
    """Markdown (what models write) as Slack mrkdwn; code blocks are left alone."""
    parts = _FENCE.split(markdown)
    return "".join(p if p.startswith("```") else _convert(p) for p in parts)


def _convert(text: str) -> str:
    out = escape(text)
    out = _MD_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", out)
    out = _BULLET.sub(r"\1• ", out)
    out = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", out)
    return _HEADING.sub(r"*\1*", out)


def chunks(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at paragraph or line breaks."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit))
        cut = cut if cut > limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    return [*pieces, rest] if rest else pieces
