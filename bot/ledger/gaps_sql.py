"""The :class:`~bot.ledger.roles.TraceLog` and :class:`~bot.ledger.roles.ApprovedAnswers` roles
in SQL (mixins of :class:`bot.ledger.store.Ledger`, which writes a trace in the transaction of
its answer row)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.ledger.approved import Approved, CitedDocument
from bot.ledger.rows import LedgerRow
from bot.ledger.schema import answers, approved_answers, question_traces, write
from bot.ledger.traces import QuestionTrace, TracedAnswer


def trace_values(trace: QuestionTrace) -> dict[str, Any]:
    values = asdict(trace)
    values["terms"] = json.dumps(list(trace.terms), ensure_ascii=False)
    return values


def _trace(mapping: Mapping[Any, Any]) -> QuestionTrace:
    return QuestionTrace(mapping["answer_id"], mapping["created_at"], mapping["language"],
                         mapping["encoder"], bytes(mapping["vector"]),
                         tuple(json.loads(mapping["terms"])))


def approved_values(item: Approved) -> dict[str, Any]:
    values = {f.name: getattr(item, f.name) for f in fields(item)}
    values["cited"] = json.dumps([asdict(c) for c in item.cited], ensure_ascii=False)
    values["audience"] = json.dumps(list(item.audience))
    values["marks"] = json.dumps(list(item.marks), ensure_ascii=False)
    return values


def approved_from(mapping: Mapping[Any, Any]) -> Approved:
    values = dict(mapping)
    values["cited"] = tuple(CitedDocument(**c) for c in json.loads(values["cited"]))
    values["audience"] = tuple(json.loads(values["audience"]))
    values["marks"] = tuple(json.loads(values["marks"]))
    values["vector"] = bytes(values["vector"])
    return Approved(**values)


class SqlGaps:
    """Mixin: needs ``self._engine`` and ``self._from_db`` (a row mapping to a LedgerRow)."""

    _engine: Engine
    _row_from_db: Callable[[Mapping[Any, Any]], LedgerRow]

    @staticmethod
    def _write_trace(conn: Connection, trace: QuestionTrace | None) -> None:
        if trace is not None:
            conn.execute(question_traces.insert(), trace_values(trace))

    def traced(self, since: datetime | None = None,
               until: datetime | None = None) -> list[TracedAnswer]:
        """Answers in ``[since, until)`` with their traces, oldest first."""
        t = question_traces
        clauses = [*([t.c.created_at >= since] if since else []),
                   *([t.c.created_at < until] if until else [])]
        traced_cols = [c.label(f"t_{c.name}") for c in t.c]
        query = (sa.select(answers, *traced_cols)
                 .join(t, t.c.answer_id == answers.c.answer_id).where(*clauses)
                 .order_by(t.c.created_at, t.c.answer_id))
        out = []
        with self._engine.connect() as conn:
            for m in conn.execute(query).mappings():
                row = self._row_from_db({c.name: m[c.name] for c in answers.c})
                out.append(TracedAnswer(row, _trace({c.name: m[f"t_{c.name}"] for c in t.c})))
        return out

    def add_approved(self, item: Approved) -> None:
        with write(self._engine) as conn:
            conn.execute(approved_answers.insert(), approved_values(item))

    def save_approved(self, item: Approved) -> bool:
        values = approved_values(item)
        update = approved_answers.update().where(approved_answers.c.id == item.id).values(values)
        with write(self._engine) as conn:
            return conn.execute(update).rowcount > 0

    def approved(self, approved_id: str) -> Approved | None:
        query = sa.select(approved_answers).where(approved_answers.c.id == approved_id)
        with self._engine.connect() as conn:
            found = conn.execute(query).mappings().first()
        return None if found is None else approved_from(found)

    def approved_list(self, status: str | None = None) -> list[Approved]:
        query = sa.select(approved_answers).order_by(approved_answers.c.created_at.desc(),
                                                     approved_answers.c.id)
        if status is not None:
            query = query.where(approved_answers.c.status == status)
        with self._engine.connect() as conn:
            return [approved_from(m) for m in conn.execute(query).mappings()]
