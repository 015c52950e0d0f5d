"""The answer prompt's fixed beginning (system prompt, worked examples, the passages' fence) is
processed once: at load (``Firstline.load`` warms it), and llama.cpp reuses it for every answer;
``slm_cached_tokens`` records how much of each prompt was reused."""

from __future__ import annotations

from typing import Any

import pytest

from bot.answering.prompt import build_messages, fixed_prefix
from bot.models.base import Message
from bot.types import Question

pytestmark = pytest.mark.slm


def test_a_prompt_after_the_warm_up_reuses_the_fixed_beginning(sample_core: Any) -> None:
    model = sample_core.local
    model.complete_sync([Message("user", "Say hello.")], max_tokens=2)  # something else first
    warmed = model.warm(fixed_prefix())
    prompt = build_messages("When is payday?", [], "en").messages
    completion = model.complete_sync(prompt, max_tokens=4)
    assert warmed > 300  # the system prompt and the two worked examples
    # all but the warm-up's own ending (its "[1] ", the assistant turn's opening, one token)
    assert warmed - 10 <= completion.cached_tokens < completion.prompt_tokens


def test_an_unrelated_prompt_reuses_nothing(sample_core: Any) -> None:
    model = sample_core.local
    model.warm(fixed_prefix())
    completion = model.complete_sync([Message("user", "Say hello.")], max_tokens=2)
    assert completion.cached_tokens < 10  # at most the chat template's opening


async def test_the_first_answer_after_load_pays_only_for_its_passage_and_question(
        sample_core: Any) -> None:
    sample_core.local.complete_sync([Message("user", "Say hello.")], max_tokens=2)
    sample_core.load()
    reply = await sample_core.handle(Question("How do I reset my VPN password?"))
    assert reply.signals["slm_cached_tokens"] > 300
