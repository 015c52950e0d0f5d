"""Finishing step: links in an answer are bare, come from its passages, and only link to
allowed domains.

A planted document must not turn the bot into a phishing relay: a Markdown link
``[trusted](https://evil…)`` becomes the bare URL (the URL is its own label); a URL that none of
the answer's passages contains (the model made it up, or it came from the question) is removed;
and a URL whose host is not on ``FIRSTLINE_LINK_DOMAINS`` is shown as code — readable, not
clickable (Slack and Teams do not link text inside code spans).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from bot.answering.record import AnswerRecord
from bot.types import Route

_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(\s*(https?://[^)\s]+)\s*\)")
_URL = re.compile(r"https?://[^\s<>()\[\]`'\"、。「」]+")
_TRAILING = ".,;:!?*_"
CHECKED_ROUTES = frozenset({Route.LOCAL, Route.CLOUD, Route.LOCAL_FALLBACK})
REMOVED = {"en": "[link removed]", "ja": "[リンク削除]"}


class SafeLinks:
    def __init__(self, allowed_domains: Sequence[str]) -> None:
        self.allowed = tuple(d.lower().lstrip(".") for d in allowed_domains if d.strip())

    async def __call__(self, answer: AnswerRecord) -> None:
        outcome = answer.outcome
        if outcome is None or outcome.route not in CHECKED_ROUTES:
            return
        shown = "\n".join(answer.passages)
        counts = {"links_removed": 0, "links_plain": 0}

        def fix(match: re.Match[str]) -> str:
            url = match.group(0).rstrip(_TRAILING)
            tail = match.group(0)[len(url):]
            if url not in shown:
                counts["links_removed"] += 1
                return REMOVED[answer.language] + tail
            if not self._allowed(url):
                counts["links_plain"] += 1
                return f"`{url}`{tail}"
            return url + tail

        text = _URL.sub(fix, _MARKDOWN_LINK.sub(lambda m: m.group(2), outcome.text))
        if text != outcome.text:
            answer.outcome = replace(outcome, text=text)
        answer.signals.update({k: v for k, v in counts.items() if v})

    def _allowed(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith(f".{d}") for d in self.allowed)
