"""Timer triggers as the Functions host runs them: each function on its NCRONTAB schedule, one run at a time.

A schedule written as a %SETTING% expression is read from the environment when the host starts, as the host
resolves app settings in binding expressions. POST /admin/functions/{name} (the host's admin API) runs a timer
function at once, which is how tests run the watchdog at the moment they choose.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from azure.functions.timer import TimerRequest
from croniter import croniter

from devhost.discovery import TIMER_TRIGGER, FunctionSpec
from devhost.settings import DevHostError

log = logging.getLogger("devhost")

_SETTING = re.compile(r"%([^%]+)%")
# A run that starts this much after its scheduled time is reported as past due, as the host does.
PAST_DUE_SECONDS = 1.0

Invoke = Callable[[FunctionSpec, object, str], Awaitable[object]]


def resolve_schedule(spec: FunctionSpec) -> str:
    """The function's NCRONTAB schedule with %SETTING% expressions replaced by the settings' values."""

    def setting(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1), "").strip()
        if not value:
            raise DevHostError(f"function {spec.name!r}: its schedule names setting {match.group(1)}, which is not set")
        return value

    schedule = _SETTING.sub(setting, spec.schedule or "")
    if len(schedule.split()) != 6 or not croniter.is_valid(schedule, second_at_beginning=True):
        raise DevHostError(
            f"function {spec.name!r}: {schedule!r} is not a six-field NCRONTAB schedule "
            '({second} {minute} {hour} {day} {month} {day-of-week}, e.g. "0 */5 * * * *")'
        )
    return schedule


class TimerRunner:
    """Runs every timer function of the app on its schedule until stopped."""

    def __init__(self, functions: list[FunctionSpec], invoke: Invoke) -> None:
        self.timers = [spec for spec in functions if spec.trigger_type == TIMER_TRIGGER]
        self.schedules = {spec.name: resolve_schedule(spec) for spec in self.timers}
        self._invoke = invoke
        self._locks = {spec.name: asyncio.Lock() for spec in self.timers}
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(spec), name=f"timer {spec.name}") for spec in self.timers]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def fire(self, spec: FunctionSpec, *, past_due: bool = False, reason: str) -> None:
        """One run of a timer function; a run still going makes this one wait, so runs never overlap."""
        async with self._locks[spec.name]:
            await self._invoke(spec, TimerRequest(past_due=past_due), reason)

    async def _run(self, spec: FunctionSpec) -> None:
        if spec.run_on_startup:
            await self._fire_logged(spec, past_due=False, reason="Timer fired at startup")
        schedule = croniter(self.schedules[spec.name], datetime.now(UTC), second_at_beginning=True)
        while True:
            due: datetime = schedule.get_next(datetime)
            await asyncio.sleep(max((due - datetime.now(UTC)).total_seconds(), 0))
            late = (datetime.now(UTC) - due).total_seconds()
            await self._fire_logged(spec, past_due=late > PAST_DUE_SECONDS, reason=f"Timer fired at {due.isoformat()}")

    async def _fire_logged(self, spec: FunctionSpec, *, past_due: bool, reason: str) -> None:
        try:
            await self.fire(spec, past_due=past_due, reason=reason)
        except Exception:
            # The host logs a failed timer run and keeps the schedule; so does devhost.
            log.exception("Function 'Functions.%s' failed", spec.name)
