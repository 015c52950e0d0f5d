"""Chat models behind one seam (:class:`bot.models.base.ChatModel`): llama.cpp in-process, a
shared SLM server, an OpenAI-compatible cloud, the packaged default GGUF, the redaction wrapper,
and an in-memory fake for unit tests."""
