"""What an indexing run did, in words an operator reads the same way as text and as JSON.

Every file found under the indexed folders ends in exactly one state: added, updated,
unchanged, relabelled, empty (read, but no text), skipped (a type no loader reads), failed
(corrupt or unreadable, with a one-line reason) or refused (over a limit, or a link leading
outside the folder). Removed files are those indexed before and gone now.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

# the counted states, in the order the summary line and the JSON give them
STATES = ("added", "updated", "removed", "unchanged", "relabelled", "empty", "skipped", "failed",
          "refused", "flagged")


@dataclass
class IndexSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    relabelled: list[str] = field(default_factory=list)  # unchanged text, new audience/labels
    empty: dict[str, str] = field(default_factory=dict)  # path -> why ("" for an empty file)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> "unsupported type .gz"
    failed: dict[str, str] = field(default_factory=dict)  # path -> reason
    refused: dict[str, str] = field(default_factory=dict)  # path -> why (limits, symlinks)
    flagged: dict[str, list[str]] = field(default_factory=dict)  # path -> instruction-like text
    notes: dict[str, str] = field(default_factory=dict)  # path -> e.g. attachments not indexed
    chunks_embedded: int = 0
    chunks_reused: int = 0
    chunks_total: int = 0
    orphans_swept: int = 0
    seconds: float = 0.0

    def count(self, state: str) -> int:
        return len(getattr(self, state))

    def details(self) -> Iterator[tuple[str, str, str]]:
        """(state, path, why) for every file an operator should look at."""
        for state in ("failed", "refused", "empty", "skipped"):
            for path, why in getattr(self, state).items():
                yield state, path, why
        for path, flags in self.flagged.items():
            yield "flagged", path, ", ".join(flags)
        for path, note in self.notes.items():
            yield "note", path, note

    def as_dict(self) -> dict[str, object]:
        counts: dict[str, object] = {state: self.count(state) for state in STATES}
        return {
            **counts,
            "details": [{"state": s, "path": p, "why": w} for s, p, w in self.details()],
            "failures": self.failed,
            "refusals": self.refused,
            "flags": self.flagged,
            "chunks_embedded": self.chunks_embedded,
            "chunks_reused": self.chunks_reused,
            "chunks_total": self.chunks_total,
            "seconds": round(self.seconds, 3),
        }

    def line(self) -> str:
        """``3 added, 0 updated, 0 removed, 40 unchanged, 1 failed; 412 chunks …``: the first
        five states always, the others when they happened."""
        shown = [s for s in STATES if s in STATES[:4] or s == "failed" or self.count(s)]
        return (", ".join(f"{self.count(s)} {s}" for s in shown)
                + f"; {self.chunks_total} chunks ({self.chunks_embedded} embedded) in "
                f"{self.seconds:.1f}s")

    def detail_lines(self) -> list[str]:
        """``failed: path: why`` lines, as `firstline index` prints them under the summary."""
        return [f"{state}: {path}" + (f": {why}" if why else "")
                for state, path, why in self.details()]
