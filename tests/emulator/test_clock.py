"""Emulated time: the virtual clock tests advance (order, chains, cancellation, timeouts) and the scaled clock."""

import asyncio

import pytest

from emulator.clock import Clock, VirtualClock
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer


async def test_timers_fire_only_when_advanced_in_deadline_order() -> None:
    clock = VirtualClock()
    fired: list[str] = []

    async def after(seconds: float, name: str) -> None:
        await clock.sleep(seconds)
        fired.append(name)

    tasks = [asyncio.create_task(after(s, n)) for s, n in ((3, "c"), (1, "a"), (2, "b1"), (2, "b2"))]
    await asyncio.sleep(0)
    assert (clock.pending, fired) == (4, [])
    await clock.advance(2.5)
    assert fired == ["a", "b1", "b2"]  # a tie keeps the order the timers were set in
    assert clock.monotonic() == 2.5
    await clock.advance(0.5)
    assert fired == ["a", "b1", "b2", "c"]
    await asyncio.gather(*tasks)


async def test_what_a_timer_sets_off_runs_before_the_next_one_fires() -> None:
    clock = VirtualClock()
    seen: list[tuple[str, float]] = []

    async def queue_of_two_plays() -> None:
        for name in ("first", "second"):
            await clock.sleep(1)
            seen.append((name, clock.monotonic()))

    async def one_timeout() -> None:
        await clock.sleep(1.5)
        seen.append(("timeout", clock.monotonic()))

    tasks = [asyncio.create_task(queue_of_two_plays()), asyncio.create_task(one_timeout())]
    await clock.advance(5)
    assert seen == [("first", 1), ("timeout", 1.5), ("second", 2)]
    await asyncio.gather(*tasks)


async def test_a_canceled_sleeper_never_fires_and_is_not_pending() -> None:
    clock = VirtualClock()
    sleeper = asyncio.create_task(clock.sleep(1))
    await asyncio.sleep(0)
    assert clock.pending == 1
    sleeper.cancel()
    await asyncio.gather(sleeper, return_exceptions=True)
    assert clock.pending == 0
    await clock.advance(2)
    assert sleeper.cancelled()


async def test_no_time_passes_for_a_zero_second_sleep_or_without_an_advance() -> None:
    clock = VirtualClock()
    await clock.sleep(0)
    await clock.sleep(-1)
    assert clock.monotonic() == 0
    with pytest.raises(ValueError, match="forward"):
        await clock.advance(-0.1)


async def test_wait_for_gives_the_result_when_it_comes_first() -> None:
    clock = VirtualClock()
    inputs: asyncio.Queue[str] = asyncio.Queue()
    waiting = asyncio.create_task(clock.wait_for(inputs.get(), 5))
    await clock.advance(4.9)
    inputs.put_nowait("tone")
    assert await waiting == "tone"
    assert clock.pending == 0  # its timer was stopped


async def test_wait_for_times_out_once_the_time_has_passed_and_loses_no_input() -> None:
    clock = VirtualClock()
    inputs: asyncio.Queue[str] = asyncio.Queue()
    waiting = asyncio.create_task(clock.wait_for(inputs.get(), 5))
    await clock.advance(5)
    with pytest.raises(TimeoutError):
        await waiting
    inputs.put_nowait("late tone")
    assert await clock.wait_for(inputs.get(), 1) == "late tone"


async def test_the_scaled_clock_waits_real_time_divided_by_its_scale() -> None:
    clock = Clock(scale=0.001)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(TimeoutError):
        await clock.wait_for(asyncio.Event().wait(), 20)  # 20 emulated seconds: 20 ms
    assert loop.time() - began >= 0.02
    assert await clock.wait_for(asyncio.sleep(0, result="done"), 20) == "done"


def test_only_an_emulator_on_a_virtual_clock_can_be_advanced() -> None:
    with EmulatorServer(EmulatorConfig(port=0, time_scale=0.01)) as scaled, pytest.raises(TypeError, match="Virtual"):
        scaled.advance(1)
