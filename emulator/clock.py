"""Scaled time: emulated waits (ring and silence timeouts, audio durations) run faster or slower than real time."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime


class Clock:
    """Emulated durations multiplied by `scale` become real waits: scale 0.01 turns a 5 s timeout into 50 ms."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be greater than 0")
        self.scale = scale

    def real_seconds(self, emulated_seconds: float) -> float:
        return max(0.0, emulated_seconds) * self.scale

    async def sleep(self, emulated_seconds: float) -> None:
        await asyncio.sleep(self.real_seconds(emulated_seconds))

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
