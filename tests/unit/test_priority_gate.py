"""`PriorityGate`: lower numbers go first, FIFO within a priority, cancellations lose no place."""

from __future__ import annotations

import asyncio

import pytest

from tiktimer.kit.priority import PriorityGate


async def test_priorities_go_in_order_and_each_is_fifo() -> None:
    gate = PriorityGate(1, priorities=3)
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with gate.turn(2):
            await release.wait()

    async def caller(name: str, priority: int) -> None:
        async with gate.turn(priority):
            order.append(name)
            await asyncio.sleep(0)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(caller(f"guess{n}", 2)) for n in range(3)]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(caller(f"stranger{n}", 1)) for n in range(2)]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(caller("owner", 0))]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *tasks)
    assert order == ["owner", "stranger0", "stranger1", "guess0", "guess1", "guess2"]


async def test_capacity_is_never_exceeded_and_cancelled_waiters_lose_no_place() -> None:
    gate = PriorityGate(2)
    inside = 0
    most = 0

    async def work(priority: int) -> None:
        nonlocal inside, most
        async with gate.turn(priority):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    tasks = [asyncio.create_task(work(n % 2)) for n in range(30)]
    await asyncio.sleep(0)
    for task in tasks[5:25:2]:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert most == 2
    assert sum(isinstance(r, asyncio.CancelledError) for r in results) == 10
    # Every place came back: the gate admits two at once again.
    await asyncio.wait_for(asyncio.gather(work(1), work(1)), 1)
    assert most == 2


async def test_a_place_granted_to_a_caller_that_gives_up_is_passed_on() -> None:
    gate = PriorityGate(1)
    async with gate.turn(0):
        quitter = asyncio.create_task(_enter(gate))
        follower = asyncio.create_task(_enter(gate))
        await asyncio.sleep(0)
    # The holder left: the quitter was granted the place; it is cancelled before it runs.
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    await asyncio.wait_for(follower, 1)


async def _enter(gate: PriorityGate) -> None:
    async with gate.turn(1):
        await asyncio.sleep(0)
