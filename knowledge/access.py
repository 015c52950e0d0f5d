"""Who may read what: a document's labels (audience, confidential) and the reader asking.

A document's **audience** is the groups that may read it; no audience means everyone. It comes
from Markdown front matter (``audience: [hr, managers]``) and from access rules (``[[access]]``
tables in ``firstline.toml``) that match files of any format by glob, relative to the knowledge
root. When a rule matches, the rules' audience replaces the front matter's (the operator's
configuration is the authority); ``confidential`` (never sent to the cloud) is set by either.

A :class:`Reader` is the person asking: their groups, and whether the conversation is shared (a
channel or group chat), where only documents with no audience are used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any


def groups_of(raw: str | Iterable[str] | None) -> tuple[str, ...]:
    """Group names, lower-cased, sorted, without duplicates: from ``"[hr, managers]"``,
    ``"hr, managers"`` or a list."""
    if raw is None:
        return ()
    items = raw.strip().strip("[]").split(",") if isinstance(raw, str) else list(raw)
    return tuple(sorted({str(i).strip().strip("\"'").lower() for i in items} - {""}))


@dataclass(frozen=True)
class Labels:
    audience: tuple[str, ...] = ()
    confidential: bool = False


@dataclass(frozen=True)
class AccessRule:
    """One ``[[access]]`` table: ``paths`` globs, and the labels of the files they match."""

    paths: tuple[str, ...]
    audience: tuple[str, ...] = ()
    confidential: bool = False

    def matches(self, relative: str) -> bool:
        return any(fnmatch(relative, pattern) for pattern in self.paths)

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> AccessRule:
        unknown = set(table) - {"paths", "audience", "confidential"}
        if unknown or not table.get("paths"):
            raise ValueError(f"an [[access]] rule takes paths (required), audience and "
                             f"confidential; got {sorted(table)}")
        paths = table["paths"]
        return cls(tuple([paths] if isinstance(paths, str) else paths),
                   groups_of(table.get("audience")), bool(table.get("confidential", False)))


def label(relative: str, declared: Labels, rules: Sequence[AccessRule] = (),
          confidential_globs: Sequence[str] = ()) -> Labels:
    """The labels a file gets: its own (front matter), overridden by the matching rules."""
    matched = [r for r in rules if r.matches(relative)]
    ruled = tuple(sorted({g for r in matched for g in r.audience}))
    confidential = (declared.confidential or any(r.confidential for r in matched)
                    or any(fnmatch(relative, p) for p in confidential_globs))
    return Labels(ruled if ruled else declared.audience, confidential)


@dataclass(frozen=True)
class Reader:
    """The person asking. No groups: documents without an audience only."""

    groups: frozenset[str] = frozenset()
    shared: bool = False  # a channel or group chat: documents without an audience only

    def may_read(self, audience: Sequence[str]) -> bool:
        if not audience:
            return True
        return not self.shared and bool(self.groups & set(audience))


PUBLIC = Reader()
