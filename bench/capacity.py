"""Capacity: the app in its own processes (one instance, then two behind the emulator's delivery, as Azure scales
out), callers arriving as a Poisson process at rising rates, each checking an order. For each rate: every hop's
latency (event raised -> answering action accepted, the emulator's view), lost and duplicated actions (the chaos
audit), and the CPU time of the app's processes, Azurite and this process (the emulator and the callers). The
sustained rate is the highest one whose hops keep p95 <= 500 ms with nothing lost or duplicated; Azurite's ceiling for
the same I/O (read + conditional write pairs per second) is measured in the same run, so the app's share of the
storage limit is a ratio.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from devhost.azurite import Azurite

from .chaos import ChaosCaller, StuckWatch, audit_callers, problems_of, wait_for_states_to_end
from .instances import AppStack, app_stack
from .probe import TimelineSignals
from .raw_io import measure_store_capacity
from .stats import Summary, cpu_seconds, process_cpu_seconds, reference_cpu_ms
from .timelines import step_latencies

P95_LIMIT_MS = 500.0
CALL_BUDGET_SECONDS = 90.0
SCALE_OUT_TARGET = 1.6  # two instances should sustain at least this multiple of one instance's rate
DEFAULT_RATES = (3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 28.0, 32.0, 36.0, 40.0)


@dataclass
class CapacityStep:
    """One rate held for a while: what came out of it, and what it cost."""

    rate: float  # offered calls per second (Poisson arrivals)
    calls: int
    completed: int
    lost: int
    duplicated: int
    extra: int
    failed_inputs: int
    arrival_window_s: float
    wall_s: float  # first arrival to the last call's state ended
    callbacks: int  # callback POSTs the app answered
    invocations: int  # callbacks and Event Grid deliveries
    hops: Summary
    app_cpu_s: dict[str, float]  # all instances: "main" (the event loop) and "other" threads (executors, pools)
    azurite_cpu_s: float
    emulator_and_callers_cpu_s: float
    # stats.reference_cpu_ms just before the step: the machine's speed, to compare steps and runs by.
    reference_cpu_ms: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.hops.p95 <= P95_LIMIT_MS and self.lost == 0 and self.duplicated == 0

    @property
    def calls_per_s(self) -> float:
        return round(self.completed / self.arrival_window_s, 2) if self.arrival_window_s else 0.0

    @property
    def callbacks_per_s(self) -> float:
        return round(self.callbacks / self.calls * self.calls_per_s, 1) if self.calls else 0.0

    @property
    def app_cpu_ms_per_invocation(self) -> float:
        total = sum(self.app_cpu_s.values())
        return round(total * 1000 / self.invocations, 2) if self.invocations else 0.0

    @property
    def azurite_cpu_ms_per_invocation(self) -> float:
        return round(self.azurite_cpu_s * 1000 / self.invocations, 2) if self.invocations else 0.0

    @property
    def cpu_busy(self) -> float:
        """Share of the machine's cores busy during the step (app, Azurite, emulator and callers)."""
        used = sum(self.app_cpu_s.values()) + self.azurite_cpu_s + self.emulator_and_callers_cpu_s
        return round(used / (self.wall_s * (os.cpu_count() or 1)), 2) if self.wall_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "passed": self.passed,
            "calls": self.calls,
            "completed": self.completed,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "extra": self.extra,
            "failed_inputs": self.failed_inputs,
            "calls_per_s": self.calls_per_s,
            "callbacks": self.callbacks,
            "callbacks_per_s": self.callbacks_per_s,
            "invocations": self.invocations,
            "hops_ms": self.hops.to_dict(),
            "app_cpu_s": self.app_cpu_s,
            "app_cpu_ms_per_invocation": self.app_cpu_ms_per_invocation,
            "azurite_cpu_s": self.azurite_cpu_s,
            "azurite_cpu_ms_per_invocation": self.azurite_cpu_ms_per_invocation,
            "emulator_and_callers_cpu_s": self.emulator_and_callers_cpu_s,
            "cpu_busy": self.cpu_busy,
            "reference_cpu_ms": self.reference_cpu_ms,
            "arrival_window_s": self.arrival_window_s,
            "wall_s": self.wall_s,
            "problems": self.problems,
        }


@dataclass
class CapacityRun:
    """One deployment shape (a number of instances) climbing the rates until one fails."""

    instances: int
    store_rounds_per_s: float  # Azurite's ceiling: read + conditional write pairs per second, measured first
    steps: list[CapacityStep]

    @property
    def sustained(self) -> CapacityStep | None:
        passed = [step for step in self.steps if step.passed]
        return passed[-1] if passed else None

    @property
    def store_share(self) -> float:
        """Sustained callbacks per second over Azurite's ceiling of read + write pairs per second."""
        best = self.sustained
        return round(best.callbacks_per_s / self.store_rounds_per_s, 2) if best and self.store_rounds_per_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        best = self.sustained
        return {
            "instances": self.instances,
            "sustained_calls_per_s": best.calls_per_s if best else 0.0,
            "sustained_callbacks_per_s": best.callbacks_per_s if best else 0.0,
            "app_cpu_ms_per_invocation": best.app_cpu_ms_per_invocation if best else None,
            "store_rounds_per_s": self.store_rounds_per_s,
            "store_share": self.store_share,
            "steps": [step.to_dict() for step in self.steps],
        }


@dataclass
class CapacityResult:
    time_scale: float
    step_seconds: float
    runs: list[CapacityRun]

    @property
    def scale_out(self) -> float | None:
        """The two-instance sustained rate over the one-instance one; None unless both runs found their limit."""
        if any(not run.steps or run.steps[-1].passed for run in self.runs):
            return None  # the highest rate offered passed: that is the callers' limit, not the app's
        rates = {run.instances: run.sustained.calls_per_s for run in self.runs if run.sustained}
        return round(rates[2] / rates[1], 2) if 1 in rates and 2 in rates and rates[1] else None

    @property
    def bottleneck(self) -> str:
        """What the instances share that stopped the larger deployment, from the CPU of its first failed rate."""
        run = self.runs[-1]
        if self.scale_out is None or self.scale_out >= SCALE_OUT_TARGET:
            return ""
        failed = next((step for step in run.steps if not step.passed), run.steps[-1] if run.steps else None)
        if failed is None:
            return ""
        shares = {
            "the app's instances": sum(failed.app_cpu_s.values()),
            "Azurite (one Node process)": failed.azurite_cpu_s,
            "the emulator and the callers (this process)": failed.emulator_and_callers_cpu_s,
        }
        parts = ", ".join(f"{name} {seconds / failed.wall_s:.2f} cores" for name, seconds in shares.items())
        verdict = (
            f"the machine's {os.cpu_count()} cores, {failed.cpu_busy:.0%} busy at {failed.rate:g} calls/s ({parts})"
        )
        alone = self.runs[0].sustained
        if alone is not None and failed.azurite_cpu_ms_per_invocation > alone.azurite_cpu_ms_per_invocation:
            # Each instance's state cache misses whenever the other one handled the call's previous event.
            verdict += (
                f", and Azurite: {failed.azurite_cpu_ms_per_invocation:g} ms of its CPU per invocation against "
                f"{alone.azurite_cpu_ms_per_invocation:g} ms with one instance, whose cache the other instance's "
                "writes keep making stale"
            )
        return verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_scale": self.time_scale,
            "step_seconds": self.step_seconds,
            "p95_limit_ms": P95_LIMIT_MS,
            "scale_out": self.scale_out,
            "bottleneck": self.bottleneck,
            "runs": [run.to_dict() for run in self.runs],
        }


def measure_capacity(
    *,
    instances: Sequence[int] = (1, 2),
    rates: Sequence[float] = DEFAULT_RATES,
    step_seconds: float = 20.0,
    time_scale: float = 0.2,
    seed: int = 7,
) -> CapacityResult:
    """Climb `rates` (calls per second, each held for step_seconds) for each number of instances, on one Azurite."""
    runs = []
    with Azurite() as azurite:
        for count in instances:
            with app_stack(instances=count, time_scale=time_scale, azurite=azurite) as stack:
                _warm_up(stack)
                store = measure_store_capacity(azurite.connection_string)
                steps: list[CapacityStep] = []
                for index, rate in enumerate(rates):
                    steps.append(_measure_step(stack, rate, step_seconds, seed + index))
                    if not steps[-1].passed:
                        break
                runs.append(CapacityRun(instances=count, store_rounds_per_s=store, steps=steps))
    return CapacityResult(time_scale=time_scale, step_seconds=step_seconds, runs=runs)


def _warm_up(stack: AppStack) -> None:
    """Two calls per instance, one after another: every instance builds its clients and fetches the signing keys."""
    for index in range(2 * len(stack.instances)):
        asyncio.run(_arrivals(stack, rate=1000.0, duration=0.0, seed=index, first_index=9000 + index))


def _measure_step(stack: AppStack, rate: float, duration: float, seed: int) -> CapacityStep:
    stack.control.reset()
    reference = reference_cpu_ms()
    azurite_pid = stack.azurite.process.pid if stack.azurite.process else None
    before = _cpu(stack, azurite_pid)
    started = time.monotonic()
    callers, errors, watch, window = asyncio.run(_arrivals(stack, rate, duration, seed))
    wall = time.monotonic() - started
    after = _cpu(stack, azurite_pid)
    audits = audit_callers(stack, callers, watch)
    hops = [
        latency
        for caller in callers
        if caller.server_call_id
        for latency in step_latencies(stack.control.timeline(caller.server_call_id)).values()
    ]
    callbacks = len(stack.control.deliveries("callback"))
    invocations = callbacks + len(stack.control.deliveries("eventgrid"))
    return CapacityStep(
        rate=rate,
        calls=len(callers),
        completed=sum(1 for audit in audits if audit.completed),
        lost=sum(1 for audit in audits if audit.lost) + (len(callers) - len(audits)),
        duplicated=sum(len(audit.duplicated) for audit in audits),
        extra=sum(len(audit.extra) for audit in audits),
        failed_inputs=sum(audit.failed_inputs for audit in audits),
        arrival_window_s=round(window, 2),
        wall_s=round(wall, 2),
        callbacks=callbacks,
        invocations=invocations,
        hops=Summary.of(hops),
        app_cpu_s={name: round(after["app"][name] - before["app"][name], 2) for name in before["app"]},
        azurite_cpu_s=round(after["azurite"] - before["azurite"], 2),
        emulator_and_callers_cpu_s=round(after["bench"] - before["bench"], 2),
        reference_cpu_ms=reference,
        problems=(errors[:5] + problems_of(audits))[:20],
    )


def _cpu(stack: AppStack, azurite_pid: int | None) -> dict[str, Any]:
    threads = [instance.thread_cpu_seconds() for instance in stack.instances]
    return {
        "app": {name: sum(per_instance[name] for per_instance in threads) for name in ("main", "other")},
        "azurite": (process_cpu_seconds(azurite_pid) or 0.0) if azurite_pid else 0.0,
        "bench": cpu_seconds(),
    }


async def _arrivals(
    stack: AppStack, rate: float, duration: float, seed: int, first_index: int = 0
) -> tuple[list[ChaosCaller], list[str], StuckWatch, float]:
    """Callers arriving as a Poisson process of `rate` per second for `duration` seconds (at least one caller);
    returns them once every call and its state have ended, with the arrival window in seconds."""
    rng = random.Random(seed)  # noqa: S311 - arrival times, reproducible by seed; nothing secret
    signals = TimelineSignals()
    watch = StuckWatch(stack)
    with signals.installed():
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=500)) as session:
            loop = asyncio.get_running_loop()
            started = loop.time()
            callers: list[ChaosCaller] = []
            tasks = []
            offset = 0.0
            while not callers or offset <= duration:
                await asyncio.sleep(max(0.0, started + offset - loop.time()))  # the next arrival's moment
                caller = ChaosCaller(session, stack, signals, first_index + len(callers), block=4)
                callers.append(caller)
                tasks.append(asyncio.create_task(caller.run(CALL_BUDGET_SECONDS)))
                offset += rng.expovariate(rate)
            window = max(loop.time() - started, 1.0 / rate)
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            await wait_for_states_to_end(watch, callers, stack)
    errors = [f"{caller.number}: {outcome!r}" for caller, outcome in zip(callers, outcomes, strict=True) if outcome]
    return callers, errors, watch, window
