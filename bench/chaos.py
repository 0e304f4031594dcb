"""Chaos: the app as two instances (two dev host processes on one Azurite) behind the emulator's fault mode, one of
them killed and restarted mid-call; every call's emulator timeline is audited against what the IVR must do.

Each caller checks an order (menu 1, order 12345#, hears the status, hangs up at the next menu). The audit counts
- duplicated: an action of one claim sent twice (the same operation with the same tagged operation context, or a
  second answer or recording start), never a replay ACS recognised by its Repeatability-Request-ID;
- extra: actions beyond what the conversation needed (its failed inputs and the watchdog's re-asks included), which
  measures any version of the app alike, tagged or not;
- lost: calls whose caller did not get through (never heard the status), or whose state never ended;
- stuck: calls whose step waited more than STUCK_SLACK_SECONDS past its deadline without moving or ending;
- recovered: the watchdog's looks at a call (its GET of the call), with what they led to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from devhost.azurite import REPO_ROOT, Azurite
from emulator.faults import FaultPlan
from emulator.scripting import prompt_texts

from .instances import AppStack, app_stack
from .localstack import IVR_NUMBER, KNOWN_ORDER, ORDER_STATUS_TEXT, caller_number
from .probe import TimelineSignals
from .timelines import ANSWER, GREETING, MENU, ORDER_NUMBER, ORDER_STATUS, declared, request_key

logger = logging.getLogger(__name__)

STUCK_SLACK_SECONDS = 5.0
MAX_WAIT_FOR_END_SECONDS = 60.0
EVERY_SECOND = "* * * * * *"


@dataclass(frozen=True)
class ChaosPlan:
    """What the run does: how many calls, which faults (fractions of deliveries or requests), and the kill."""

    calls: int = 100
    seed: int = 7
    duplicate: float = 1.0
    late: float = 0.1
    reorder: float = 0.05
    drop: float = 0.02
    rest_failure: float = 0.1
    kill: bool = True
    restart_after_seconds: float = 3.0
    time_scale: float = 0.5
    lease_seconds: float = 5.0
    grace_seconds: float = 3.0
    call_budget_seconds: float = 240.0

    def faults(self, instances: list[str]) -> FaultPlan:
        return FaultPlan(
            seed=self.seed,
            duplicate=self.duplicate,
            late=self.late,
            reorder=self.reorder,
            drop=self.drop,
            rest_failure=self.rest_failure,
            app_instances=tuple(instances),
        )


@contextmanager
def chaos_stack(
    plan: ChaosPlan, *, azurite: Azurite | None = None, instances: int = 2, app_dir: Path = REPO_ROOT
) -> Iterator[AppStack]:
    """Azurite (own unless given), the emulator with the plan's faults, and `instances` app instances, seeded.

    app_dir is the checkout whose dev host and app run (another one measures an earlier version the same way).
    """
    settings = {
        "WATCHDOG_SCHEDULE": EVERY_SECOND,
        "CLAIM_LEASE_SECONDS": str(plan.lease_seconds),
        "WATCHDOG_GRACE_SECONDS": str(plan.grace_seconds),
        # A dropped answer is re-asked like a failed input; the callers never give up, and neither should the IVR.
        "IVR_MAX_RETRIES": "10",
    }
    with app_stack(
        instances=instances,
        time_scale=plan.time_scale,
        faults=plan.faults([]),
        settings=settings,
        azurite=azurite,
        app_dir=app_dir,
    ) as stack:
        yield stack


# --- the callers -----------------------------------------------------------------------------------------------------


def _path(value: str) -> str:
    return quote(value, safe=":+=")


class ChaosCaller:
    """A caller that answers whatever the app asks: 1 at the menu, the order number when asked for it, and hangs up
    at the menu once the order's status was read out. Asked again (a re-prompt), it answers again."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        stack: AppStack,
        signals: TimelineSignals,
        index: int,
        milestone: Milestone | None = None,
        block: int = 3,
    ) -> None:
        self.session = session
        self.milestone = milestone
        self.stack = stack
        self.signals = signals
        self.number = caller_number(index, block=block)
        self.raw_id = f"4:{self.number}"
        self.server_call_id = ""
        self.heard_status = False
        self.hung_up = False
        self._timeline: Any = None
        self._cursor = 0
        self._wake = asyncio.Event()

    async def run(self, budget: float) -> None:
        deadline = time.monotonic() + budget
        placed = await self._control("POST", "/calls", {"from": self.number, "to": IVR_NUMBER})
        self.server_call_id = placed["serverCallId"]
        self._timeline = self.stack.emulator.backend.calls[self.server_call_id].timeline
        self.signals.watch(self._timeline, self._wake)
        try:
            while not await self._step(deadline):
                pass
        finally:
            self.signals.unwatch(self._timeline)

    async def _step(self, deadline: float) -> bool:
        """React to the next thing that happens on the call; True once the call is over."""
        entry = await self._next(deadline)
        if entry.kind == "emulator" and entry.summary == "call ended":
            return True
        if entry.kind == "request" and entry.summary == "CallMedia_Play" and _accepted(entry):
            self.heard_status |= any(ORDER_STATUS_TEXT in text for text in prompt_texts(entry.detail["body"]))
            return False
        asked = self._last_recognize()
        if asked == "main-menu" and self.heard_status and not self.hung_up:
            self.hung_up = True
            await self._person("hangup", {})
        elif asked == "main-menu":
            await self._press("1")
        elif asked == "order-number":
            await self._press(KNOWN_ORDER + "#")
        return False

    async def _press(self, keys: str) -> None:
        if self.milestone is not None:
            self.milestone.pressed(self.number)
        await self._person("dtmf", {"tones": keys})

    async def _next(self, deadline: float) -> Any:
        """The next entry that matters to the caller: a prompt listening to them, a play, or the call ending."""
        while True:
            self._wake.clear()
            entries = list(self._timeline.entries)
            for index in range(self._cursor, len(entries)):
                entry = entries[index]
                if _matters(entry, self.raw_id):
                    self._cursor = index + 1
                    return entry
            self._cursor = len(entries)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.number}: the call did not finish in time")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(remaining, 1.0))

    def _last_recognize(self) -> str:
        for entry in reversed(self._timeline.entries[: self._cursor]):
            if entry.kind == "request" and entry.summary == "CallMedia_Recognize" and _accepted(entry):
                return declared(entry.detail["body"].get("operationContext"))
        return ""

    async def _person(self, action: str, body: dict[str, Any]) -> None:
        path = f"/calls/{_path(self.server_call_id)}/participants/{_path(self.number)}/{action}"
        with contextlib.suppress(RuntimeError):  # the call may have ended meanwhile; the timeline will say so
            await self._control("POST", path, body)

    async def _control(self, method: str, path: str, body: dict[str, Any]) -> Any:
        url = URL(self.stack.emulator.url + "/emulator" + path, encoded=True)
        async with self.session.request(method, url, json=body) as response:
            payload = await response.json(content_type=None)
            if response.status >= 400:
                raise RuntimeError(f"control API {method} {path}: {response.status} {payload}")
            return payload


def _accepted(entry: Any) -> bool:
    return entry.detail.get("status", 500) < 300 and not entry.detail.get("replayed")


def _matters(entry: Any, raw_id: str) -> bool:
    if entry.kind == "emulator":
        return entry.summary == "call ended" or entry.summary == f"recognize listening to {raw_id}"
    return entry.kind == "request" and entry.summary == "CallMedia_Play"


# --- the audit -------------------------------------------------------------------------------------------------------

# Operations that must happen once per call whatever happens to it (ACS answers their repeats from the request id).
ONCE_PER_CALL = ("AnswerCall", "CallRecording_StartRecording", "CallConnection_TerminateCall")
# What an order-status conversation needs from the app, each once: the menu twice (before and after the status).
CONVERSATION = {ANSWER: 1, GREETING: 1, MENU: 2, ORDER_NUMBER: 1, ORDER_STATUS: 1}
WATCHDOG_LOOK = "CallConnection_GetCall"
# What the watchdog reads when it looks at a call (the call, then who is in it); reads are not actions.
READS = frozenset({WATCHDOG_LOOK, "CallConnection_GetParticipants", "CallConnection_GetParticipant"})


@dataclass
class CallAudit:
    server_call_id: str
    completed: bool
    ended_in_state: bool
    duplicated: list[str]  # an action of one claim sent twice (by its tagged operation context)
    extra: list[str]  # actions beyond what the conversation, its failed inputs and the watchdog's re-asks needed
    recoveries: int
    failed_inputs: int
    stuck: str | None = None
    ending: str = ""  # how a lost call's timeline ends

    @property
    def lost(self) -> bool:
        return not (self.completed and self.ended_in_state)


def audit_call(timeline: list[dict[str, Any]], *, completed: bool, ended_in_state: bool) -> CallAudit:
    """Duplicated and extra actions, watchdog recoveries and failed inputs of one call, from its emulator timeline.

    "duplicated" needs the claim tags of this app's operation contexts; "extra" needs only the conversation, so it
    measures any version of the app the same way (an earlier release tags nothing).
    """
    accepted = [
        entry
        for entry in timeline
        if entry["kind"] == "request"
        and entry["detail"].get("status", 500) < 300
        and not entry["detail"].get("replayed")
    ]
    tagged: Counter[tuple[str, str]] = Counter()
    singles: Counter[str] = Counter()
    for entry in accepted:
        body = entry["detail"].get("body")
        context = body.get("operationContext") if isinstance(body, dict) else None
        if context and entry["summary"] != "AnswerCall":
            tagged[(entry["summary"], context)] += 1
        if entry["summary"] in ONCE_PER_CALL:
            singles[entry["summary"]] += 1
    duplicated = [f"{operation}({context}) x{count}" for (operation, context), count in tagged.items() if count > 1]
    duplicated += [f"{operation} x{count}" for operation, count in singles.items() if count > 1]
    failures = Counter(
        declared(entry["detail"].get("operationContext"))
        for entry in timeline
        if entry["kind"] == "callback" and entry["summary"] == "RecognizeFailed"
    )
    expected = Counter(CONVERSATION)
    for key in (MENU, ORDER_NUMBER):
        expected[key] += failures[key[1]]
    looks = [index for index, entry in enumerate(accepted) if entry["summary"] == WATCHDOG_LOOK]
    for index in looks:  # the watchdog's re-ask follows its look at the call
        following = next((entry for entry in accepted[index + 1 :] if entry["summary"] not in READS), None)
        if following is not None:
            expected[request_key(following)] += 1
    actual = Counter(request_key(entry) for entry in accepted if entry["summary"] not in READS)
    extra = [f"{key[0]}({key[1]}) x{count - expected[key]}" for key, count in actual.items() if count > expected[key]]
    return CallAudit(
        server_call_id="",
        completed=completed,
        ended_in_state=ended_in_state,
        duplicated=duplicated,
        extra=extra,
        recoveries=len(looks),
        failed_inputs=sum(failures.values()),
    )


# --- watching the app's state for stuck calls ------------------------------------------------------------------------


class StuckWatch:
    """Reads every call's state row twice a second; a step past its deadline by more than the slack is stuck."""

    def __init__(self, stack: AppStack, slack: float = STUCK_SLACK_SECONDS) -> None:
        self.stack = stack
        self.slack = slack
        self.stuck: dict[str, str] = {}  # call connection id -> what was seen
        self.states: dict[str, dict[str, Any]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        async with self.stack.state_table() as table:
            while not stop.is_set():
                await self.look(table)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
            await self.look(table)

    async def look(self, table: Any) -> None:
        now = datetime.now(UTC)
        async for row in table.query_entities("RowKey eq @state", parameters={"state": "state"}):
            call = row["call_connection_id"]
            self.states[call] = dict(row)
            deadline = row.get("deadline")
            if row["step"] == "ended" or deadline is None or call in self.stuck:
                continue
            overdue = (now - deadline).total_seconds()
            if overdue > self.slack:
                self.stuck[call] = f"step {row['step']} {overdue:.1f} s past its deadline {deadline.isoformat()}"


# --- the run ---------------------------------------------------------------------------------------------------------


@dataclass
class ChaosResult:
    plan: ChaosPlan
    calls: int
    completed: int
    lost: int
    duplicated: int
    extra: int
    stuck: int
    recovered: int
    failed_inputs: int
    wall_s: float
    kills: list[str]
    faults: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "completed": self.completed,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "extra": self.extra,
            "stuck": self.stuck,
            "recovered": self.recovered,
            "failed_inputs": self.failed_inputs,
            "wall_s": self.wall_s,
            "kills": self.kills,
            "faults": self.faults,
            "plan": {
                name: getattr(self.plan, name)
                for name in (
                    "seed",
                    "duplicate",
                    "late",
                    "reorder",
                    "drop",
                    "rest_failure",
                    "kill",
                    "restart_after_seconds",
                    "time_scale",
                    "lease_seconds",
                    "grace_seconds",
                )
            },
            "problems": self.problems,
        }


class Milestone:
    """Set once `target` callers have pressed a key: the moment the kill hits calls in the middle of their steps."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.callers: set[str] = set()
        self.reached = asyncio.Event()

    def pressed(self, number: str) -> None:
        self.callers.add(number)
        if len(self.callers) >= self.target:
            self.reached.set()


async def _kill_and_restart(stack: AppStack, plan: ChaosPlan, mid_call: Milestone, kills: list[str]) -> None:
    """Once mid_call is reached, SIGKILL the last instance; start it again restart_after_seconds later."""
    await mid_call.reached.wait()
    victim = stack.instances[-1]
    victim.kill()
    kills.append(f"{victim.name} killed at {datetime.now(UTC).isoformat()}")
    await asyncio.sleep(plan.restart_after_seconds)
    await asyncio.to_thread(victim.start)
    kills.append(f"{victim.name} restarted at {datetime.now(UTC).isoformat()}")


async def _drive(stack: AppStack, plan: ChaosPlan) -> tuple[list[ChaosCaller], list[str], StuckWatch, list[str]]:
    signals = TimelineSignals()
    watch = StuckWatch(stack)
    stop_watching = asyncio.Event()
    kills: list[str] = []
    with signals.installed():
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=100)) as session:
            mid_call = Milestone(max(1, plan.calls // 3))
            callers = [ChaosCaller(session, stack, signals, index, mid_call) for index in range(plan.calls)]
            watcher = asyncio.create_task(watch.run(stop_watching))
            killer = asyncio.create_task(_kill_and_restart(stack, plan, mid_call, kills)) if plan.kill else None
            outcomes = await asyncio.gather(
                *(caller.run(plan.call_budget_seconds) for caller in callers), return_exceptions=True
            )
            if killer is not None:
                await killer
            await wait_for_states_to_end(watch, callers, stack)
            stop_watching.set()
            await watcher
    errors = [f"{caller.number}: {outcome!r}" for caller, outcome in zip(callers, outcomes, strict=True) if outcome]
    return callers, errors, watch, kills


async def wait_for_states_to_end(watch: StuckWatch, callers: list[ChaosCaller], stack: AppStack) -> None:
    """Give the app until every call's state has ended, or until the latest deadline plus the slack has passed (at
    most MAX_WAIT_FOR_END_SECONDS: a state without a deadline may never end)."""
    give_up = time.monotonic() + MAX_WAIT_FOR_END_SECONDS
    async with stack.state_table() as table:
        while time.monotonic() < give_up:
            await watch.look(table)
            open_calls = [row for row in watch.states.values() if row["step"] != "ended"]
            if not open_calls:
                return
            latest = max((row.get("deadline") or datetime.now(UTC)) for row in open_calls)
            if (datetime.now(UTC) - latest).total_seconds() > watch.slack:
                return
            await asyncio.sleep(0.5)  # the next look at the table: this waits on storage, not on an event


def audit_callers(stack: AppStack, callers: list[ChaosCaller], watch: StuckWatch) -> list[CallAudit]:
    """Every placed call's audit, from its emulator timeline and its legs' states as the watch last read them."""
    audits = []
    for caller in callers:
        if not caller.server_call_id:
            continue
        legs = stack.control.call(caller.server_call_id)["callConnectionIds"]
        ended = bool(legs) and all(watch.states.get(leg, {}).get("step") == "ended" for leg in legs)
        audit = audit_call(
            stack.control.timeline(caller.server_call_id),
            completed=caller.heard_status and caller.hung_up,
            ended_in_state=ended,
        )
        audit.server_call_id = caller.server_call_id
        audit.stuck = next((watch.stuck[leg] for leg in legs if leg in watch.stuck), None)
        if audit.lost:
            audit.ending = last_steps(stack, caller.server_call_id)
        audits.append(audit)
    return audits


def last_steps(stack: AppStack, server_call_id: str, count: int = 12) -> str:
    """The end of a call's timeline, to tell why it was lost."""
    entries = stack.control.timeline(server_call_id)[-count:]
    return "; ".join(f"{entry['kind']}:{entry['summary']}" for entry in entries)


def problems_of(audits: list[CallAudit]) -> list[str]:
    problems = [f"{a.server_call_id[-12:]}: duplicated {', '.join(a.duplicated)}" for a in audits if a.duplicated]
    problems += [f"{a.server_call_id[-12:]}: extra {', '.join(a.extra)}" for a in audits if a.extra]
    problems += [f"{a.server_call_id[-12:]}: stuck, {a.stuck}" for a in audits if a.stuck]
    problems += [
        f"{a.server_call_id[-12:]}: lost (completed={a.completed}, ended={a.ended_in_state}); last: {a.ending}"
        for a in audits
        if a.lost
    ]
    return problems


def measure_chaos(stack: AppStack, plan: ChaosPlan) -> ChaosResult:
    """Run the plan's calls through the stack and audit them."""
    stack.control.reset()
    stack.control.set_faults(plan.faults([instance.url for instance in stack.instances]))
    started = time.monotonic()
    callers, errors, watch, kills = asyncio.run(_drive(stack, plan))
    wall = time.monotonic() - started
    audits = audit_callers(stack, callers, watch)
    problems = errors[:10] + problems_of(audits)
    lost = sum(1 for audit in audits if audit.lost) + (plan.calls - len(audits))
    return ChaosResult(
        plan=plan,
        calls=plan.calls,
        completed=sum(1 for audit in audits if audit.completed),
        lost=lost,
        duplicated=sum(len(audit.duplicated) for audit in audits),
        extra=sum(len(audit.extra) for audit in audits),
        stuck=sum(1 for audit in audits if audit.stuck),
        recovered=sum(audit.recoveries for audit in audits),
        failed_inputs=sum(audit.failed_inputs for audit in audits),
        wall_s=round(wall, 1),
        kills=kills,
        faults=stack.control.faults()["counters"],
        problems=problems[:30],
    )
