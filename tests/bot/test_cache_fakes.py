"""The answer cache through the pipeline, on fakes: a hit, a miss, and every way an entry goes
(👎, a changed source, thread history). test_cache.py runs the same on the real models."""

from __future__ import annotations

from pathlib import Path

from unit_parts import VPN, ask, make_core

from bot.models.fake import FakeChatModel
from bot.types import Route, Turn

VPN_Q = "How do I reset my VPN password?"


def cached_core(tmp_path: Path, local: FakeChatModel):  # type: ignore[no-untyped-def]
    return make_core(tmp_path, local=local, cache_ttl_seconds=3600,
                     knowledge_paths=str(tmp_path / "kb"))


async def test_a_repeated_question_is_served_from_the_cache_at_no_cost(tmp_path: Path) -> None:
    local = FakeChatModel("Open the VPN portal and choose Reset password [1].", name="slm")
    core = cached_core(tmp_path, local)
    first = await ask(core, VPN_Q)
    hit = await ask(core, "How can I reset my VPN password?")
    assert first.route is Route.LOCAL
    assert (hit.route, hit.reason, hit.cost_usd) == (Route.CACHE, "cache-hit", 0.0)
    assert hit.text == first.text and hit.cited == (VPN,) and len(local.requests) == 1
    assert hit.signals["cached_answer_id"] == first.answer_id
    assert core.ledger.get(hit.answer_id).route == "cache"  # type: ignore[union-attr]


async def test_a_down_vote_on_the_hit_drops_the_original(tmp_path: Path) -> None:
    core = cached_core(tmp_path, FakeChatModel("Use the VPN portal [1].", name="slm"))
    await ask(core, VPN_Q)
    hit = await ask(core, VPN_Q)
    await core.feedback(hit.answer_id, "u1", "down")
    assert (await ask(core, VPN_Q)).route is Route.LOCAL


async def test_a_changed_source_invalidates_the_entry(tmp_path: Path) -> None:
    core = cached_core(tmp_path, FakeChatModel("Use the VPN portal [1].", name="slm"))
    await ask(core, VPN_Q)
    doc = tmp_path / "kb" / VPN
    doc.write_text(doc.read_text() + "\nThe portal is closed on Sundays.\n")
    assert core.indexing.index().updated == [VPN]
    assert (await ask(core, VPN_Q)).route is Route.LOCAL


async def test_questions_in_a_thread_are_neither_served_nor_stored(tmp_path: Path) -> None:
    local = FakeChatModel("Use the VPN portal [1].", name="slm")
    core = cached_core(tmp_path, local)
    history = (Turn("user", "Hi"), Turn("assistant", "Hello!"))
    await ask(core, VPN_Q, history=history)
    assert (await ask(core, VPN_Q, history=history)).route is Route.LOCAL
    assert len(core.cache) == 0 and len(local.requests) == 2
