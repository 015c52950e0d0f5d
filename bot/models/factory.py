"""Building the chat models from settings: the local SLM (in-process or a shared server) and
the optional cloud model. Both satisfy :class:`bot.models.base.ChatModel`."""

from __future__ import annotations

from pathlib import Path

from bot.models.base import ChatModel
from bot.models.cloud import CloudChatModel
from bot.models.llama import LocalSLM
from bot.models.packaged import DEFAULT_SLM, resolve_slm_path
from bot.models.remote import RemoteSLM, display_name
from bot.settings import Settings


def local_model_from_settings(settings: Settings) -> ChatModel:
    """In-process llama.cpp by default; an OpenAI-compatible server with FIRSTLINE_SLM_URL."""
    if settings.slm_url:
        return RemoteSLM(
            settings.slm_url,
            display_name(settings.slm_model),
            timeout=max(settings.cloud_timeout, 120.0),
        )
    name = Path(settings.slm_model).stem if settings.slm_model else Path(DEFAULT_SLM.filename).stem
    return LocalSLM(
        lambda: resolve_slm_path(settings.slm_model, settings.data_dir),
        name=name,
        n_ctx=settings.slm_context,
        n_threads=settings.slm_threads,
        chat_format=settings.slm_chat_format,
    )


def cloud_model_from_settings(settings: Settings) -> ChatModel | None:
    if not settings.cloud_url:
        return None
    return CloudChatModel.from_settings(settings)
