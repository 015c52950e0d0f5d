"""Prometheus metrics: answers by route, latency, tokens, spend, index size, reindex runs.

One registry per process (``prometheus_client``'s default); ``/metrics`` on ``firstline serve``
exposes it. The core calls :func:`observe_reply` once per answer, next to its ledger row.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from bot.types import Reply

ANSWERS = Counter("firstline_answers_total", "Answers by route, channel and language",
                  ["route", "channel", "language"])
LATENCY = Histogram("firstline_answer_seconds", "End-to-end answer latency", ["route"],
                    buckets=(0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 20, 30, 60))
TOKENS = Counter("firstline_tokens_total", "Tokens by model and kind", ["model", "kind"])
SPEND = Counter("firstline_cost_usd_total", "Answer cost in USD (cloud and on-prem)", ["route"])
ALL_CLOUD = Counter("firstline_all_cloud_cost_usd_total",
                    "What the same answers would have cost all-cloud")
FEEDBACK = Counter("firstline_feedback_total", "Thumbs up/down", ["vote"])
INDEX_CHUNKS = Gauge("firstline_index_chunks", "Live chunks in the knowledge store")
INDEX_FILES = Gauge("firstline_index_files", "Indexed documents")
REINDEX = Counter("firstline_reindex_runs_total", "Reindex runs by outcome", ["outcome"])


def observe_reply(reply: Reply, channel: str, all_cloud_usd: float) -> None:
    ANSWERS.labels(reply.route.value, channel, reply.language).inc()
    LATENCY.labels(reply.route.value).observe(reply.latency_ms / 1000)
    for model, counts in reply.tokens.items():
        for kind, n in counts.items():
            TOKENS.labels(model, kind).inc(n)
    SPEND.labels(reply.route.value).inc(reply.cost_usd)
    ALL_CLOUD.inc(all_cloud_usd)


def observe_index(files: int, chunks: int) -> None:
    INDEX_FILES.set(files)
    INDEX_CHUNKS.set(chunks)


def exposition() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
