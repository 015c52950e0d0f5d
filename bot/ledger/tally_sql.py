"""Each model's prompt and completion tokens per tally group, summed in SQL: the ``tokens``
column (JSON text, ``{model: {"prompt": n, "completion": n}}``) is spread into one row per
model with SQLite's ``json_each`` or PostgreSQL's ``jsonb_each``, then grouped like the
tallies, so the admin console never reads the rows themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from bot.ledger.schema import answers

GroupKey = tuple[Any, ...]


def _spread(dialect: str) -> tuple[sa.FromClause, sa.ColumnElement[Any], sa.ColumnElement[Any]]:
    """The per-model rows of ``tokens`` and their prompt and completion counts."""
    if dialect == "postgresql":
        each = sa.func.jsonb_each(sa.cast(answers.c.tokens, JSONB)).table_valued(
            "key", "value").lateral()
        prompt: sa.ColumnElement[Any] = sa.func.jsonb_extract_path_text(each.c.value, "prompt")
        completion: sa.ColumnElement[Any] = sa.func.jsonb_extract_path_text(
            each.c.value, "completion")
        return each, sa.cast(prompt, sa.BigInteger), sa.cast(completion, sa.BigInteger)
    each = sa.func.json_each(answers.c.tokens).table_valued("key", "value")
    return (each, sa.func.json_extract(each.c.value, "$.prompt"),
            sa.func.json_extract(each.c.value, "$.completion"))


def token_sums(conn: sa.Connection, keys: Sequence[sa.ColumnElement[Any]],
               window: Sequence[sa.ColumnElement[bool]]) -> dict[GroupKey, dict[str, list[int]]]:
    """``{group key: {model: [prompt, completion]}}`` for the answers in ``window``."""
    each, prompt, completion = _spread(conn.dialect.name)
    query = (sa.select(*keys, each.c.key, sa.func.coalesce(sa.func.sum(prompt), 0),
                       sa.func.coalesce(sa.func.sum(completion), 0))
             .select_from(answers).join(each, sa.true()).where(*window)
             .group_by(*keys, each.c.key))
    found: dict[GroupKey, dict[str, list[int]]] = {}
    for *key, model, prompt_sum, completion_sum in conn.execute(query):
        found.setdefault(tuple(key), {})[str(model)] = [int(prompt_sum), int(completion_sum)]
    return found
