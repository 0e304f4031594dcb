"""Callback turnaround: sequential IVR calls, timed by the dev host (with the app's I/O split out) and the emulator."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .localstack import BenchStack, caller_number, order_status_call
from .peer import PeerResult
from .probe import COUNTERS, SPAN_LABELS, Invocation
from .raw_io import RawIoResult
from .stats import Summary
from .timelines import STEPS, Step, audit_order_status_call, ivr_is_recorded, step_latencies


@dataclass
class StepStats:
    """One IVR hop, seen from both ends, with the app's I/O inside the dev host's time."""

    name: str
    host: Summary  # dev host: callback POST received -> response ready (the whole batch of actions)
    first_action: Summary  # dev host: callback POST received -> the first ACS request answered
    emulator: Summary  # emulator: event raised -> the first answering action accepted
    io_ms: dict[str, float]  # median ms per I/O kind within one invocation
    io_count: dict[str, float]  # median number of such operations within one invocation
    other_ms: float  # median of host time not spent in that I/O (parsing, JWT, logging, event-loop waits)
    adopted: int = 0  # invocations that found no call state yet and adopted the call (one extra read)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host_ms": self.host.to_dict(),
            "first_action_ms": self.first_action.to_dict(),
            "emulator_ms": self.emulator.to_dict(),
            "io_ms": self.io_ms,
            "io_count": self.io_count,
            "other_ms": self.other_ms,
            "adopted": self.adopted,
        }


@dataclass
class TurnaroundResult:
    calls: int
    time_scale: float
    wall_s: float
    steps: list[StepStats]
    callbacks: Summary  # every callback POST the dev host served, whatever its event
    failed_invocations: int  # non-2xx answers from the dev host
    lost: int
    duplicated: int
    unexpected: int
    failed_inputs: int
    recorded: bool = False  # the app recorded the calls (RECORDING_ENABLED_FLOWS names the IVR)
    raw_io: RawIoResult | None = None
    peer: PeerResult | None = None  # the stateless quickstart handler, on the same emulator
    unrecorded: TurnaroundResult | None = None  # the same calls with recording off, measured in the same run
    notes: list[str] = field(default_factory=list)

    def step(self, name: str) -> StepStats:
        return next(step for step in self.steps if step.name == name)

    def ratios(self) -> dict[str, float | None]:
        """The hot path's bars: hops over the raw I/O of this run, recorded over unrecorded greeting, app over peer.

        Against the raw I/O, a hop is timed where the raw I/O is, in the app: callback received -> its first ACS
        request answered; emu_ is the emulator's view (event raised -> first action accepted), which adds the
        callback's signing and delivery. The greeting and peer ratios are the emulator's view (the peer has no
        probe)."""
        ratios: dict[str, float | None] = {}
        if self.raw_io is not None:
            raw = self.raw_io.total
            for key, name in (("menu", MENU_HOP), ("order", ORDER_HOP)):
                hop = self.step(name)
                ratios[f"{key}_p50_vs_raw_io"] = _ratio(hop.first_action.p50, raw.p50)
                ratios[f"{key}_p95_vs_raw_io"] = _ratio(hop.first_action.p95, raw.p95)
                ratios[f"emu_{key}_p50_vs_raw_io"] = _ratio(hop.emulator.p50, raw.p50)
                ratios[f"emu_{key}_p95_vs_raw_io"] = _ratio(hop.emulator.p95, raw.p95)
        if self.unrecorded is not None:
            greeting, unrecorded = self.step(GREETING_HOP), self.unrecorded.step(GREETING_HOP)
            ratios["greeting_recorded_vs_unrecorded_p50"] = _ratio(greeting.emulator.p50, unrecorded.emulator.p50)
            ratios["greeting_recorded_vs_unrecorded_p95"] = _ratio(greeting.emulator.p95, unrecorded.emulator.p95)
        if self.peer is not None:
            for key, name in (("greeting", GREETING_HOP), ("menu", MENU_HOP), ("order", ORDER_HOP)):
                ratios[f"{key}_p50_vs_peer"] = _ratio(self.step(name).emulator.p50, self.peer.steps[name].p50)
        return ratios

    def to_dict(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "ratios": self.ratios(),
            "peer": self.peer.to_dict() if self.peer else None,
            "unrecorded": self.unrecorded.to_dict() if self.unrecorded else None,
            "calls": self.calls,
            "time_scale": self.time_scale,
            "wall_s": self.wall_s,
            "steps": [step.to_dict() for step in self.steps],
            "callbacks_ms": self.callbacks.to_dict(),
            "failed_invocations": self.failed_invocations,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "unexpected": self.unexpected,
            "failed_inputs": self.failed_inputs,
            "raw_io": self.raw_io.to_dict() if self.raw_io else None,
            "notes": self.notes,
        }


GREETING_HOP, MENU_HOP, ORDER_HOP = (step.name for step in STEPS[1:])


def _ratio(value: float, floor: float) -> float | None:
    return round(value / floor, 2) if floor and floor == floor and value == value else None


def invocations_of(step: Step, invocations: Iterable[Invocation]) -> list[Invocation]:
    return [inv for inv in invocations if inv.events and step.matches_invocation(inv.kind, *inv.events[0])]


def step_stats(step: Step, invocations: list[Invocation], latencies: list[float]) -> StepStats:
    mine = invocations_of(step, invocations)
    io_ms = {
        label: round(statistics.median(inv.span_ms(label) for inv in mine), 2) if mine else 0.0 for label in SPAN_LABELS
    }
    io_count = {
        label: statistics.median(inv.span_count(label) for inv in mine) if mine else 0.0 for label in SPAN_LABELS
    }
    other = round(statistics.median(inv.duration_ms - inv.io_ms for inv in mine), 2) if mine else 0.0
    return StepStats(
        name=step.name,
        host=Summary.of(inv.duration_ms for inv in mine),
        first_action=Summary.of(inv.first_action_ms for inv in mine if inv.first_action_ms is not None),
        emulator=Summary.of(latencies),
        io_ms=io_ms,
        io_count=io_count,
        other_ms=other,
        adopted=sum(1 for inv in mine for counter in COUNTERS if inv.span_count(counter)),
    )


def measure_turnaround(bench: BenchStack, calls: int = 20, call_timeout: float = 15.0) -> TurnaroundResult:
    """Place `calls` order-status calls one after another; every wait is bounded by call_timeout."""
    bench.probe.clear()
    recorded = ivr_is_recorded()
    started = time.monotonic()
    call_ids = []
    for index in range(calls):
        caller = order_status_call(bench.control, caller_number(index, block=1), call_timeout, recorded=recorded)
        call_ids.append(caller.call_id)
        bench.probe.wait_idle()  # the app has indexed the recording, or handled the call's last callbacks
    wall = time.monotonic() - started
    invocations = bench.probe.snapshot()
    timelines = [bench.control.timeline(call_id) for call_id in call_ids if call_id]
    per_step: dict[str, list[float]] = {step.name: [] for step in STEPS}
    audits = [audit_order_status_call(timeline, recorded=recorded) for timeline in timelines]
    for timeline in timelines:
        for name, latency in step_latencies(timeline).items():
            per_step[name].append(latency)
    callbacks = [inv for inv in invocations if inv.kind == "callback"]
    return TurnaroundResult(
        calls=calls,
        time_scale=bench.stack.time_scale,
        wall_s=round(wall, 2),
        steps=[step_stats(step, invocations, per_step[step.name]) for step in STEPS],
        callbacks=Summary.of(inv.duration_ms for inv in callbacks),
        failed_invocations=sum(1 for inv in invocations if inv.status >= 300),
        lost=sum(audit.lost for audit in audits),
        duplicated=sum(audit.duplicated for audit in audits),
        unexpected=sum(audit.unexpected for audit in audits),
        failed_inputs=sum(audit.failed_inputs for audit in audits),
        recorded=recorded,
    )
