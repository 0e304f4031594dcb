"""Concurrency: N callers dial the IVR at once, each checks an order; then every call's actions are audited."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from emulator.scripting import prompt_texts

from .localstack import IVR_NUMBER, KNOWN_ORDER, ORDER_STATUS_TEXT, BenchStack, caller_number
from .probe import SPAN_LABELS, TimelineSignals
from .stats import Summary, cpu_seconds, peak_rss_mib, process_cpu_seconds, rss_mib, thread_cpu_seconds
from .timelines import STEPS, audit_order_status_call, declared, ivr_is_recorded, step_latencies

Entry = Any  # emulator.timeline.TimelineEntry, read in-process
MAX_INPUT_ATTEMPTS = 3


@dataclass
class ConcurrencyResult:
    calls: int
    completed: int
    wall_s: float
    calls_per_s: float
    steps: dict[str, Summary]  # emulator: event raised -> answering action accepted, per hop
    all_steps: Summary  # the same, every hop of every call together
    host_callbacks: Summary  # dev host: callback POST received -> response
    host_time_share: dict[str, float]  # where the dev host's time went: I/O kinds and "other"
    cpu_s: dict[str, float]  # CPU seconds during the run: this process (emulator + dev host + callers), Azurite
    callbacks_delivered: int
    callbacks_failed: int  # final outcome not 2xx
    callbacks_retried: int  # needed more than one attempt (a 5xx/429 from the app, or a timeout)
    lost: int
    duplicated: int
    unexpected: int
    failed_inputs: int
    rejected_requests: int
    rss_before_mib: float
    rss_after_mib: float
    peak_rss_mib: float
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "completed": self.completed,
            "wall_s": self.wall_s,
            "calls_per_s": self.calls_per_s,
            "steps_ms": {name: summary.to_dict() for name, summary in self.steps.items()},
            "all_steps_ms": self.all_steps.to_dict(),
            "host_callbacks_ms": self.host_callbacks.to_dict(),
            "host_time_share": self.host_time_share,
            "cpu_s": self.cpu_s,
            "callbacks_delivered": self.callbacks_delivered,
            "callbacks_failed": self.callbacks_failed,
            "callbacks_retried": self.callbacks_retried,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "unexpected": self.unexpected,
            "failed_inputs": self.failed_inputs,
            "rejected_requests": self.rejected_requests,
            "rss_before_mib": self.rss_before_mib,
            "rss_after_mib": self.rss_after_mib,
            "peak_rss_mib": self.peak_rss_mib,
            "errors": self.errors,
        }


def _path(value: str) -> str:
    return quote(value, safe=":+=")


class Caller:
    """One simulated person: acts through the control API, waits on its call's timeline (woken by the emulator)."""

    def __init__(self, driver: Driver, number: str) -> None:
        self.driver = driver
        self.number = number
        self.raw_id = f"4:{number}"
        self.server_call_id = ""
        self.deadline = 0.0
        self._timeline: Any = None
        self._cursor = 0
        self._wake = asyncio.Event()

    async def run(self, budget: float) -> None:
        """The whole call, within `budget` seconds."""
        self.deadline = time.monotonic() + budget
        placed = await self.driver.control("POST", "/calls", {"from": self.number, "to": IVR_NUMBER})
        self.server_call_id = placed["serverCallId"]
        self._timeline = self.driver.timeline_of(self.server_call_id)
        self.driver.signals.watch(self._timeline, self._wake)
        try:
            await self.answer_recognize("main-menu", "1")
            await self.answer_recognize("order-number", KNOWN_ORDER + "#")
            await self.wait(
                lambda e: (
                    _is_request(e, "CallMedia_Play", "order-status")
                    and any(ORDER_STATUS_TEXT in text for text in prompt_texts(e.detail["body"]))
                ),
                "the order status",
            )
            await self.wait(lambda e: _is_request(e, "CallMedia_Recognize", "main-menu"), "the menu again")
            await self.person("hangup", {})
            await self.wait(lambda e: e.kind == "emulator" and e.summary == "call ended", "the call to end")
        finally:
            self.driver.signals.unwatch(self._timeline)

    async def answer_recognize(self, context: str, keys: str) -> None:
        """Wait for the recognize of this step to listen, press keys; a too-late press is retried on the re-prompt."""
        for _ in range(MAX_INPUT_ATTEMPTS):
            await self.wait(lambda e: _is_request(e, "CallMedia_Recognize", context), f"the {context} recognize")
            await self.wait(
                lambda e: e.kind == "emulator" and e.summary.startswith("recognize listening to " + self.raw_id),
                f"the {context} recognize to listen",
            )
            await self.person("dtmf", {"tones": keys})
            outcome = await self.wait(
                lambda e: (
                    e.kind == "callback"
                    and e.summary in ("RecognizeCompleted", "RecognizeFailed")
                    and declared(e.detail.get("operationContext")) == context
                ),
                f"the {context} result",
            )
            if outcome.summary == "RecognizeCompleted":
                return
        raise RuntimeError(f"{self.number}: {context} failed {MAX_INPUT_ATTEMPTS} times")

    async def person(self, action: str, body: dict[str, Any]) -> None:
        path = f"/calls/{_path(self.server_call_id)}/participants/{_path(self.number)}/{action}"
        await self.driver.control("POST", path, body)

    async def wait(self, predicate: Callable[[Entry], bool], what: str) -> Entry:
        """The first timeline entry past the cursor that matches; the cursor moves past it."""
        while True:
            self._wake.clear()
            entries = list(self._timeline.entries)
            for index in range(self._cursor, len(entries)):
                if predicate(entries[index]):
                    self._cursor = index + 1
                    return entries[index]
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                recent = [f"{e.kind}:{e.summary}" for e in entries[self._cursor :]][-8:]
                raise TimeoutError(f"{self.number}: no {what} in time; since the last step: {recent}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(remaining, 1.0))


def _is_request(entry: Entry, operation: str, context: str) -> bool:
    if entry.kind != "request" or entry.summary != operation or entry.detail.get("status", 500) >= 300:
        return False
    body = entry.detail.get("body")
    return isinstance(body, dict) and declared(body.get("operationContext")) == context


class Driver:
    """Shared by the callers: one HTTP session to the control API and the emulator's timelines."""

    def __init__(self, bench: BenchStack, session: aiohttp.ClientSession, signals: TimelineSignals) -> None:
        assert bench.stack.emulator is not None
        self.bench = bench
        self.base = bench.stack.emulator.url + "/emulator"
        self.session = session
        self.signals = signals

    async def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = URL(self.base + path, encoded=True)
        async with self.session.request(method, url, json=body) as response:
            payload = await response.json(content_type=None)
            if response.status >= 400:
                raise RuntimeError(f"control API {method} {path}: {response.status} {payload}")
            return payload

    def timeline_of(self, server_call_id: str) -> Any:
        assert self.bench.stack.emulator is not None
        return self.bench.stack.emulator.backend.calls[server_call_id].timeline


async def _drive(
    bench: BenchStack,
    calls: int,
    call_timeout: float,
    signals: TimelineSignals,
) -> tuple[list[Caller], list[BaseException | None], float]:
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=100)) as session:
        driver = Driver(bench, session, signals)
        callers = [Caller(driver, caller_number(index, block=2)) for index in range(calls)]
        started = time.monotonic()
        outcomes = await asyncio.gather(*(caller.run(call_timeout) for caller in callers), return_exceptions=True)
        wall = time.monotonic() - started
    return callers, [outcome if isinstance(outcome, BaseException) else None for outcome in outcomes], wall


def measure_concurrency(bench: BenchStack, calls: int = 200, call_timeout: float = 60.0) -> ConcurrencyResult:
    """Run `calls` callers at once (each bounded by call_timeout), then audit every call's timeline."""
    bench.control.reset()
    bench.probe.wait_idle()
    bench.probe.clear()
    rss_before = rss_mib()
    azurite_pid = bench.stack.azurite.process.pid if bench.stack.azurite and bench.stack.azurite.process else None
    cpu_before = cpu_seconds(), process_cpu_seconds(azurite_pid) if azurite_pid else None
    threads_before = thread_cpu_seconds()
    signals = TimelineSignals()
    with signals.installed():
        callers, failures, wall = asyncio.run(_drive(bench, calls, call_timeout, signals))
    bench.probe.wait_idle(quiet=0.3, timeout=60)
    rss_after = rss_mib()
    cpu_after = cpu_seconds(), process_cpu_seconds(azurite_pid) if azurite_pid else None
    threads_after = thread_cpu_seconds()
    cpu = {"python": round(cpu_after[0] - cpu_before[0], 2)}
    # The in-process services by thread: "devhost" is the app, "acs-emulator" the emulator, "MainThread" the callers.
    cpu |= {
        f"python:{name}": round(seconds - threads_before.get(name, 0.0), 2)
        for name, seconds in threads_after.items()
        if seconds - threads_before.get(name, 0.0) >= 0.01
    }
    if cpu_before[1] is not None and cpu_after[1] is not None:
        cpu["azurite"] = round(cpu_after[1] - cpu_before[1], 2)
    timelines = {
        caller.number: bench.control.timeline(caller.server_call_id) for caller in callers if caller.server_call_id
    }
    recorded = ivr_is_recorded()
    audits = [audit_order_status_call(timeline, recorded=recorded) for timeline in timelines.values()]
    per_step: dict[str, list[float]] = {step.name: [] for step in STEPS}
    for timeline in timelines.values():
        for name, latency in step_latencies(timeline).items():
            per_step[name].append(latency)
    deliveries = bench.control.deliveries("callback")
    callbacks = [inv for inv in bench.probe.snapshot() if inv.kind == "callback"]
    errors = [f"{type(failure).__name__}: {failure}" for failure in failures if failure is not None]
    completed = calls - len(errors)
    return ConcurrencyResult(
        calls=calls,
        completed=completed,
        wall_s=round(wall, 2),
        calls_per_s=round(completed / wall, 1) if wall > 0 else 0.0,
        steps={name: Summary.of(values) for name, values in per_step.items()},
        all_steps=Summary.of(value for values in per_step.values() for value in values),
        host_callbacks=Summary.of(inv.duration_ms for inv in callbacks),
        host_time_share=time_share(callbacks),
        cpu_s=cpu,
        callbacks_delivered=len(deliveries),
        callbacks_failed=sum(1 for delivery in deliveries if not delivery["ok"]),
        callbacks_retried=sum(1 for delivery in deliveries if delivery["attempts"] > 1),
        lost=sum(audit.lost for audit in audits) + (calls - len(timelines)) * 5,
        duplicated=sum(audit.duplicated for audit in audits),
        unexpected=sum(audit.unexpected for audit in audits),
        failed_inputs=sum(audit.failed_inputs for audit in audits),
        rejected_requests=sum(audit.rejected_requests for audit in audits),
        rss_before_mib=rss_before,
        rss_after_mib=rss_after,
        # The kernel records the high-water mark (VmHWM) lazily, so an RSS read earlier can exceed a later VmHWM.
        peak_rss_mib=max(peak_rss_mib(), rss_after),
        errors=errors[:10],
    )


def time_share(invocations: list[Any]) -> dict[str, float]:
    """Fraction of all dev-host time spent in each kind of I/O, and in everything else."""
    total = sum(inv.duration_ms for inv in invocations)
    if total <= 0:
        return {}
    shares = {label: sum(inv.span_ms(label) for inv in invocations) / total for label in SPAN_LABELS}
    shares["other"] = max(0.0, 1 - sum(shares.values()))
    return {label: round(share, 3) for label, share in shares.items()}
