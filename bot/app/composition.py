"""The composition root: the one place that turns :class:`~bot.settings.Settings` into parts and
binds them into a :class:`~bot.answering.responder.Firstline` (RouteLLM's ``Controller`` plays
this role there). Callers that need a different part — a benchmark's stand-in cloud, calibration's
open gate — pass it here; nothing swaps a part after construction.
"""

from __future__ import annotations

import enum
import shutil

from bot.answering.handoff.webhook import webhook_from_settings
from bot.answering.responder import Firstline
from bot.ledger.store import Ledger
from bot.models.base import ChatModel
from bot.models.factory import cloud_model_from_settings, local_model_from_settings
from bot.models.packaged import resolve_slm_path
from bot.routing.router import Router, router_from_settings
from bot.settings import Settings
from knowledge.embeddings import Embedder, LocalEmbeddings, embedder_from_setting
from knowledge.store import KnowledgeStore, open_client


class _From(enum.Enum):
    SETTINGS = "settings"


FROM_SETTINGS = _From.SETTINGS  # "build this part from the settings"


def build_firstline(settings: Settings, *, local: ChatModel | None = None,
                    cloud: ChatModel | None | _From = FROM_SETTINGS,
                    router: Router | None = None) -> Firstline:
    """The responder for ``settings``; ``local``, ``cloud`` (None: no cloud) and ``router``
    replace the configured part."""
    store = open_store(settings)
    embeddings, multilingual = embedders(settings)
    return Firstline(
        settings,
        local=local or local_model_from_settings(settings),
        store=store,
        embeddings=embeddings,
        multilingual=multilingual,
        ledger=Ledger.from_settings(settings),
        router=router or router_from_settings(settings),
        cloud=cloud_model_from_settings(settings) if cloud is FROM_SETTINGS else cloud,
        handoff=webhook_from_settings(settings),  # Slack / Teams attach theirs when mounted
    )


def embedders(settings: Settings) -> tuple[Embedder, Embedder | None]:
    """The main and the multilingual embedder (the latter None when switched off); the
    question traces and approved answers use the multilingual one when there is one."""
    return (LocalEmbeddings(settings.embedding_model or None, settings.embedding_device),
            embedder_from_setting(settings.multilingual_embeddings, settings.embedding_device,
                                  settings.embedding_threads))


def open_store(settings: Settings) -> KnowledgeStore:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return KnowledgeStore(open_client(settings.data_dir, settings.chroma_url), settings.collection)


def isolated_firstline(settings: Settings, name: str, *, fresh: bool,
                       cloud: ChatModel | None | _From = FROM_SETTINGS,
                       router: Router | None = None, collection: str = "evalset") -> Firstline:
    """A responder for an evaluation set (`firstline eval`, `router calibrate`): its own store
    and ledger in ``DATA_DIR/name`` (emptied first when ``fresh``), the outer data dir's model,
    no answer cache (every question is scored on its own); ``cloud`` and ``router`` as in
    :func:`build_firstline`."""
    data_dir = settings.data_dir / name
    if fresh:
        shutil.rmtree(data_dir, ignore_errors=True)
    slm = settings.slm_model or (
        "" if settings.slm_url else str(resolve_slm_path("", settings.data_dir)))
    inner = settings.replace(data_dir=data_dir, collection=collection, ledger_url="",
                             slm_model=slm, cache_ttl_seconds=0)
    return build_firstline(inner, router=router, cloud=cloud)
