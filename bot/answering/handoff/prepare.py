"""The :class:`~bot.types.HandoffRequest` for an asker's click: redacted, and telling the
helpdesk nothing from a document its audience may not read.

Audiences. The helpdesk channel (or ticketing system) is read by people other than the asker,
so it is treated as a shared place whose readers hold ``FIRSTLINE_HANDOFF_AUDIENCE`` groups
(none by default). For each document the answer showed (the ledger row's sources):

* readable by that audience and not confidential → named by title and path (never its text);
* otherwise, or no longer indexed → not named, only counted in ``withheld``;
* and if any was withheld, the bot's answer itself is left out (``answer_withheld``): its
  quoted lines may be that document's words. The question is the asker's own text and is
  always carried (redacted).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.ledger.rows import LedgerRow
from bot.models.redaction import redact
from bot.types import HandoffAsk, HandoffRequest, HandoffSource
from knowledge.access import Reader


class Record(Protocol):
    """What a file record tells about who may read it (``knowledge.store.FileRecord``)."""

    @property
    def confidential(self) -> bool: ...

    @property
    def audience(self) -> tuple[str, ...]: ...


def prepare_request(ask: HandoffAsk, row: LedgerRow, records: Mapping[str, Record], *,
                    helpdesk: Reader, redacting: bool,
                    company: Sequence[re.Pattern[str]]) -> HandoffRequest:
    """The request for ``ask`` on the answer ``row``, given the store's file ``records``."""
    shown, withheld = _sources(row.sources, records, helpdesk)
    masked: Counter[str] = Counter()
    question = _clean(ask.question, redacting, company, masked)
    answer = "" if withheld else _clean(ask.answer, redacting, company, masked)
    return HandoffRequest(
        answer_id=ask.answer_id, question=question, answer=answer, asker=ask.asker,
        asker_name=ask.asker_name, channel=ask.channel, thread_link=ask.thread_link,
        language=ask.language, route=row.route, reason=row.reason,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"), sources=tuple(shown),
        withheld=withheld, answer_withheld=bool(withheld), redacted=dict(masked))


def _sources(sources: Sequence[Mapping[str, Any]], records: Mapping[str, Record],
             helpdesk: Reader) -> tuple[list[HandoffSource], int]:
    shown: list[HandoffSource] = []
    withheld = 0
    for source in sources:
        path = str(source.get("path", ""))
        record = records.get(path)
        if record is None or record.confidential or not helpdesk.may_read(record.audience):
            withheld += 1
        else:
            shown.append(HandoffSource(str(source.get("title") or path), path))
    return shown, withheld


def _clean(text: str, redacting: bool, company: Sequence[re.Pattern[str]],
           masked: Counter[str]) -> str:
    if not redacting:
        return text
    clean, counts = redact(text, company)
    masked.update(counts)
    return clean
