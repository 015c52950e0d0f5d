"""Building the chat models from settings: the local SLM (in-process or a shared server) and
the optional cloud model. Both satisfy :class:`bot.types.ChatModel`."""

from __future__ import annotations

from bot.settings import Settings
from bot.types import ChatModel


def local_model_from_settings(settings: Settings) -> ChatModel:
    """In-process llama.cpp by default; an OpenAI-compatible server with FIRSTLINE_SLM_URL."""
    if settings.slm_url:
        from bot.cloud import CloudChatModel

        return CloudChatModel(
            settings.slm_url,
            "",
            settings.slm_model or "local-slm",
            timeout=max(settings.cloud_timeout, 120.0),
            want_logprobs=True,
        )
    from bot.models import resolve_slm_path
    from bot.slm import LocalSLM

    path = resolve_slm_path(settings.slm_model, settings.data_dir)
    return LocalSLM(path, n_ctx=settings.slm_context, n_threads=settings.slm_threads)


def cloud_model_from_settings(settings: Settings) -> ChatModel | None:
    if not settings.cloud_url:
        return None
    from bot.cloud import CloudChatModel

    return CloudChatModel.from_settings(settings)
