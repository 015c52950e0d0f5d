"""Which chat template the local SLM's prompts go through, chosen once per GGUF and logged.

An instruction-tuned GGUF carries its own Jinja template in the ``tokenizer.chat_template``
metadata key, and that is what the model was trained on: it is used by default. Left alone,
llama-cpp-python falls back silently to the ``llama-2`` format when the key is missing (a base
model, an old conversion), which gives a model prompts it has never seen and plausible nonsense
back; here that is a one-line error instead. ``FIRSTLINE_SLM_CHAT_FORMAT`` names one of
llama-cpp-python's built-in formats (``chatml``, ``gemma``, ``llama-3`` ...) to use instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ModelUnavailableError

SETTING = "FIRSTLINE_SLM_CHAT_FORMAT"
METADATA_KEY = "tokenizer.chat_template"
# llama-cpp-python's name for the handler it builds from METADATA_KEY
METADATA_FORMAT = "chat_template.default"


@dataclass(frozen=True)
class ChatTemplate:
    """The chat format a model's prompts are built with, and where it came from."""

    format: str  # the llama-cpp-python chat_format name
    source: str  # "GGUF metadata" or SETTING
    sha256: str = ""  # of the metadata template (empty for a named built-in format)
    jinja: str = field(default="", repr=False)  # the metadata template itself

    def describe(self) -> str:
        if self.source == SETTING:
            return f"{self.format} ({SETTING})"
        return f"GGUF metadata {METADATA_KEY} (sha256 {self.sha256[:12]}, as {self.format})"


def builtin_formats() -> list[str]:
    """The chat format names llama-cpp-python registers."""
    from llama_cpp import llama_chat_format  # 0.13 s: only when a model is loaded

    registry = llama_chat_format.LlamaChatCompletionHandlerRegistry()
    return sorted(getattr(registry, "_chat_handlers", {}))


def metadata_formats(metadata: Mapping[str, str]) -> list[str]:
    """Format names for the templates a GGUF carries (``chat_template.default``, and one per
    named template such as ``chat_template.tool_use``)."""
    names = [key.removeprefix("tokenizer.") for key in metadata
             if key.startswith(METADATA_KEY + ".")]
    return ([METADATA_FORMAT] if METADATA_KEY in metadata else []) + sorted(names)


def choose(metadata: Mapping[str, str], override: str, model: Path) -> ChatTemplate:
    """The override when set (checked against the known names), else the GGUF's own template.

    Raises :class:`ModelUnavailableError` with a one-line message naming the setting."""
    if override:
        known = builtin_formats() + metadata_formats(metadata)
        if override not in known:
            raise ModelUnavailableError(
                f"{SETTING}={override!r} is not a chat format llama-cpp-python knows for "
                f"{model.name}; use one of {', '.join(known)}, or leave it empty to use the "
                "GGUF's own template")
        return ChatTemplate(override, SETTING)
    template = metadata.get(METADATA_KEY)
    if not template:
        raise ModelUnavailableError(
            f"{model.name} has no chat template in its metadata ({METADATA_KEY}; a base model, "
            f"not instruction-tuned?): use an instruction-tuned GGUF, or set {SETTING} to its "
            "format (e.g. chatml, gemma, llama-3)")
    from llama_cpp import llama_chat_format

    guessed = llama_chat_format.guess_chat_format_from_gguf_metadata(dict(metadata))
    digest = hashlib.sha256(template.encode()).hexdigest()
    return ChatTemplate(guessed or METADATA_FORMAT, "GGUF metadata", digest, template)
