"""Turns on the one llama.cpp context: first come, first served, verification passes (which
finish an answer already on screen) before new drafts; a cancelled waiter loses its turn."""

from __future__ import annotations

import asyncio

import pytest

from bot.models.turns import FINISHING, STARTING, Turns


async def take_turns(turns: Turns, calls: list[tuple[str, int]]) -> list[str]:
    """Who got the context in which order, with ``calls`` arriving while it is busy."""
    served: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with turns.turn():
            served.append("holder")
            await release.wait()

    async def call(name: str, priority: int) -> None:
        async with turns.turn(priority):
            served.append(name)
            await asyncio.sleep(0)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiting = []
    for name, priority in calls:
        waiting.append(asyncio.create_task(call(name, priority)))
        await asyncio.sleep(0)  # arrive in this order
    release.set()
    await asyncio.gather(first, *waiting)
    return served


async def test_verification_passes_go_first_then_arrival_order() -> None:
    calls = [("draft-a", STARTING), ("draft-b", STARTING), ("verify-x", FINISHING),
             ("draft-c", STARTING), ("verify-y", FINISHING)]
    served = await take_turns(Turns(), calls)
    assert served == ["holder", "verify-x", "verify-y", "draft-a", "draft-b", "draft-c"]


async def test_a_cancelled_waiter_loses_its_turn_and_blocks_nobody() -> None:
    turns = Turns()
    served: list[str] = []
    release = asyncio.Event()

    async def call(name: str, wait: bool = False) -> None:
        async with turns.turn():
            served.append(name)
            if wait:
                await release.wait()

    holder = asyncio.create_task(call("holder", wait=True))
    await asyncio.sleep(0)
    gone, later = asyncio.create_task(call("gone")), asyncio.create_task(call("later"))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    await asyncio.gather(holder, later)
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert served == ["holder", "later"]
    async with turns.turn():  # free again
        served.append("after")
    assert served[-1] == "after"


async def test_unordered_turns_let_everyone_through_to_the_models_own_lock() -> None:
    turns = Turns(ordered=False)
    async with turns.turn(), turns.turn(FINISHING):  # nobody waits on the event loop
        pass
