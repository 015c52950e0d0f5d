"""Knowledge-gap grouping time for 10k questions, beside a 1k run and a naive pairwise pass.

    python tests/bench/bench_gaps.py [--n 10000] [--baseline 1000]

Makes ``--n`` distinct unanswered questions (helpdesk topics x phrasings x details), embeds them
with the real multilingual encoder (as the bot's question traces), records them as declined
answers with their traces in a real SQLite ledger (text logging off), then times, in this one
process:

* ``read``: :meth:`Ledger.traced` for the period (the join of answers and traces);
* ``group``: :func:`bot.answering.gaps.group` (greedy, running centroids) on those vectors;
* ``find``: :meth:`GapFinder.find` end to end (read, reasons, grouping, sorting; no store);
* the baseline: the same at ``--baseline`` questions, and a naive pass over every pair
  (the full similarity matrix in row blocks, then union-find of pairs above the threshold) at
  both sizes.

Figures print; nothing is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from _common import load_average

from bot.answering.gaps import GapFinder, group
from bot.ledger.rows import LedgerRow, utcnow
from bot.ledger.store import Ledger
from bot.ledger.traces import make_trace
from bot.settings import Settings
from knowledge.embeddings import MultilingualUSE

TOPICS = [
    "a parking permit", "the guest Wi-Fi", "my VPN token", "a second monitor", "the printer on "
    "floor 3", "my expense report", "a corporate card", "the travel booking tool", "my payslip",
    "parental leave", "paid time off", "the year-end adjustment", "my badge", "a meeting room",
    "a standing desk", "the company gym", "a software licence", "my laptop battery",
    "the shared drive", "my mailbox quota", "a phone for work", "the onboarding checklist",
    "my performance review", "the referral bonus", "a visa letter", "the relocation allowance",
    "the bike shed", "the lost and found", "the canteen menu", "a locker", "my home office "
    "budget", "the VPN on my phone", "the password manager", "the MFA app", "a USB stick",
    "the conference budget", "a training course", "the language lessons", "my commuting pass",
    "the fire drill", "the first-aid kit", "the mail room", "a courier pickup", "the seating "
    "plan", "my org chart entry", "a name change", "my bank details", "the pension plan",
    "health insurance", "the employee discount",
]
FRAMES = [
    "How do I get {t}?", "Who do I ask about {t}?", "Where can I find {t}?",
    "What is the policy on {t}?", "Is there a form for {t}?", "How long does {t} take?",
    "Can I change {t}?", "What does {t} cost?", "Who approves {t}?", "Why is {t} not working?",
    "When can I request {t}?", "Is {t} available in Osaka?", "How do I cancel {t}?",
    "Can my manager see {t}?", "What are the rules for {t}?", "Do contractors get {t}?",
    "How do I report a problem with {t}?", "Is {t} covered for part-time staff?",
    "What happens to {t} when I leave?", "Where do I return {t}?",
]
DETAILS = ["", " this week", " as a new hire", " urgently", " for my team", " next month",
           " from home", " in the Tokyo office", " after a transfer", " on a weekend"]


def questions(n: int) -> list[str]:
    out = [f.format(t=t).rstrip("?") + d + "?" for d in DETAILS for f in FRAMES for t in TOPICS]
    return out[:n]


def fill(ledger: Ledger, texts: list[str], vectors: np.ndarray, encoder: str) -> None:
    now = utcnow()
    for i, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
        at = now - timedelta(seconds=len(texts) - i)
        row = LedgerRow(f"q{i:06d}", at, "slack", "u", "c", "declined", "weak-evidence", {}, [],
                        {}, 100.0, 0.0, 0.0, [], "en", None)
        ledger.record(row, make_trace(row.answer_id, at, "en", encoder, vector, text))


def naive(vectors: np.ndarray, threshold: float, block: int = 1000) -> int:
    """Groups by single link over every pair (union-find); the number of groups."""
    parent = list(range(len(vectors)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for start in range(0, len(vectors), block):
        sims = vectors[start:start + block] @ vectors.T
        for a, b in zip(*np.nonzero(sims >= threshold), strict=True):
            ra, rb = root(start + int(a)), root(int(b))
            if ra != rb:
                parent[ra] = rb
    return len({root(i) for i in range(len(vectors))})


def timed(label: str, n: int, fn: object) -> object:
    started = time.perf_counter()
    result = fn()  # type: ignore[operator]
    print(f"{label:<38} n={n:>6}  {time.perf_counter() - started:8.3f} s")
    return result


def run(n: int, vectors: np.ndarray, texts: list[str], encoder: str, threshold: float,
        folder: Path) -> None:
    with Ledger(f"sqlite:///{folder / f'ledger-{n}.sqlite3'}", keep_question_text=False) as led:
        fill(led, texts[:n], vectors[:n], encoder)
        since = utcnow() - timedelta(days=1)
        traced = timed("read (Ledger.traced)", n, lambda: led.traced(since))
        stacked = np.stack([t.trace.array() for t in traced])  # type: ignore[attr-defined]
        labels = timed("group (greedy, running centroids)", n,
                       lambda: group(stacked, threshold))
        finder = GapFinder(led, None, similarity=threshold, low_confidence=0.5, min_count=2)
        gaps = timed("find (read + group + sort)", n, lambda: finder.find(since, limit=10**6))
        groups = timed("baseline: naive pairwise + union-find", n,
                       lambda: naive(stacked, threshold))
        print(f"{'':<38} groups: greedy {len(set(labels))}, "  # type: ignore[arg-type]
              f"shown (>=2 questions) {len(gaps)}, single-link {groups}")  # type: ignore[arg-type]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--baseline", type=int, default=1_000)
    args = ap.parse_args()
    texts = questions(args.n)
    encoder = MultilingualUSE()
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    threshold = Settings.load({}, environ={}).gaps_similarity
    print(f"{len(texts)} questions embedded with {encoder.name} in "
          f"{time.perf_counter() - started:.1f} s; FIRSTLINE_GAPS_SIMILARITY {threshold}; "
          f"load {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.baseline, len(texts)):
            run(n, vectors, texts, encoder.name, threshold, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
