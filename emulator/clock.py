"""Emulated time (ring and silence timeouts, audio durations): scaled wall-clock time for demos and benchmarks, or a
virtual clock that stands still until a test advances it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")
# Loop turns given to the woken before time moves on: enough for a chain of synchronous reactions (a play ends, the
# next queued operation starts and sets its own timer), which take one turn per hop.
SETTLE_TURNS = 20


class Clock:
    """Emulated durations multiplied by `scale` become real waits: scale 0.01 turns a 5 s timeout into 50 ms."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be greater than 0")
        self.scale = scale

    def timer(self, emulated_seconds: float) -> asyncio.Future[None]:
        """A future that resolves once `emulated_seconds` have passed; cancelling it stops the timer."""
        loop = asyncio.get_running_loop()
        fired: asyncio.Future[None] = loop.create_future()
        handle = loop.call_later(max(0.0, emulated_seconds) * self.scale, _resolve, fired)
        fired.add_done_callback(lambda _: handle.cancel())
        return fired

    async def sleep(self, emulated_seconds: float) -> None:
        await self.timer(emulated_seconds)

    async def wait_for(self, awaitable: Awaitable[T], emulated_seconds: float) -> T:
        """What `awaitable` gives, or TimeoutError once `emulated_seconds` have passed first (it is then cancelled)."""
        work = asyncio.ensure_future(awaitable)
        timer = self.timer(emulated_seconds)
        try:
            await asyncio.wait((work, timer), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            work.cancel()
            raise
        finally:
            timer.cancel()
        if work.done():
            return work.result()
        work.cancel()
        raise TimeoutError

    def monotonic(self) -> float:
        """Emulated seconds elapsed on a monotonic clock (real elapsed time divided by the scale)."""
        return time.monotonic() / self.scale

    @staticmethod
    def utcnow() -> datetime:
        return datetime.now(UTC)

    @staticmethod
    def timestamp() -> str:
        """ISO-8601 with up to seven fractional digits and +00:00, the shape of real ACS event times (which drop
        trailing zeros: `...16.384762+00:00`)."""
        now = datetime.now(UTC)
        fraction = f"{now.microsecond:06d}0".rstrip("0") or "0"
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{fraction}+00:00"


class VirtualClock(Clock):
    """Emulated time that passes only when `advance()` says so, for tests: a 5 s silence timeout fires when the test
    advances 5 s, never because the machine was slow, and a test that advances 20 s and sees no event has proved it.

    Timers due within an advance fire in deadline order (registration order on a tie), and each one's reactions run
    before the next fires. Reactions that wait on the network (downloading audio, opening a WebSocket) are not
    waited for: advance again once their result shows. Event and log timestamps stay on the wall clock.
    """

    def __init__(self) -> None:
        super().__init__(scale=1.0)  # an emulated second is reported as a second wherever durations become dates
        self._now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def timer(self, emulated_seconds: float) -> asyncio.Future[None]:
        fired: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if emulated_seconds <= 0:
            fired.set_result(None)
        else:
            heapq.heappush(self._timers, (self._now + emulated_seconds, next(self._order), fired))
        return fired

    def monotonic(self) -> float:
        return self._now

    @property
    def pending(self) -> int:
        """Timers still waiting for time to pass."""
        return sum(1 for _, _, fired in self._timers if not fired.done())

    async def advance(self, emulated_seconds: float) -> None:
        """Let `emulated_seconds` pass: fire every timer due by then, each after the reactions to the one before."""
        if emulated_seconds < 0:
            raise ValueError("time only moves forward")
        until = self._now + emulated_seconds
        await _settle()
        while self._timers and self._timers[0][0] <= until:
            deadline, _, fired = heapq.heappop(self._timers)
            if fired.done():  # cancelled: its operation ended first
                continue
            self._now = max(self._now, deadline)
            fired.set_result(None)
            await _settle()
        self._now = until


def _resolve(fired: asyncio.Future[None]) -> None:
    if not fired.done():
        fired.set_result(None)


async def _settle() -> None:
    for _ in range(SETTLE_TURNS):
        await asyncio.sleep(0)
