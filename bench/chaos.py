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
import os
import signal
import subprocess
import sys
import tempfile
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

from devhost.azurite import REPO_ROOT, Azurite, free_port, wait_for_port
from devhost.settings import read_local_settings
from devhost.stack import INCOMING_CALL_FUNCTION, app_environment
from emulator.config import EmulatorConfig
from emulator.faults import FaultPlan
from emulator.scripting import prompt_texts
from emulator.server import EmulatorServer

from .localstack import IVR_NUMBER, KNOWN_ORDER, ORDER_STATUS_TEXT, caller_number
from .probe import TimelineSignals
from .timelines import ANSWER, GREETING, MENU, ORDER_NUMBER, ORDER_STATUS, declared, request_key

logger = logging.getLogger(__name__)

STUCK_SLACK_SECONDS = 5.0
MAX_WAIT_FOR_END_SECONDS = 60.0
RING_SECONDS = 30.0
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


class AppInstance:
    """One dev host process serving function_app.py: an instance of the scaled-out Function app."""

    def __init__(
        self, name: str, port: int, environment: dict[str, str], log_dir: Path, app_dir: Path = REPO_ROOT
    ) -> None:
        self.name = name
        self.app_dir = app_dir
        self.port = port
        self.environment = environment
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        log = self.log_path.open("ab")
        command = [sys.executable, "-m", "devhost", "--app-dir", str(self.app_dir), "--port", str(self.port)]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, on a port we chose
            command, env=self.environment, stdout=log, stderr=subprocess.STDOUT, cwd=self.app_dir
        )
        log.close()
        self.starts += 1
        try:
            wait_for_port("127.0.0.1", self.port, timeout=timeout)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{self.name} did not start; see {self.log_path}") from None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no answers to requests in flight, as when a Functions host dies."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class ChaosStack:
    azurite: Azurite
    emulator: EmulatorServer
    instances: list[AppInstance]
    environment: dict[str, str]

    @property
    def control(self) -> Any:
        return self.emulator.control

    def state_table(self) -> Any:
        from azure.data.tables.aio import TableClient

        name = self.environment.get("STATE_TABLE_NAME", "callstate")
        return TableClient.from_connection_string(self.azurite.connection_string, table_name=name)


@contextmanager
def chaos_stack(
    plan: ChaosPlan, *, azurite: Azurite | None = None, instances: int = 2, app_dir: Path = REPO_ROOT
) -> Iterator[ChaosStack]:
    """Azurite (own unless given), the emulator with the plan's faults, and `instances` app instances, seeded.

    app_dir is the checkout whose dev host and app run (another one measures an earlier version the same way).
    """
    with contextlib.ExitStack() as resources:
        if azurite is None:
            azurite = resources.enter_context(Azurite())
        ports = [free_port() for _ in range(instances)]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        # Event Grid and ACS know one public URL; the fault plan spreads deliveries over the instances behind it.
        webhook = f"{urls[0]}/runtime/webhooks/eventgrid?functionName={INCOMING_CALL_FUNCTION}"
        config = EmulatorConfig(
            port=0,
            time_scale=plan.time_scale,
            # Ringing lasts RING_SECONDS of real time whatever the time scale, as it does at scale 1: the SDK's own
            # retries of an answer ACS refused (up to about 5 s) must fit in it.
            ring_timeout_seconds=max(30.0, RING_SECONDS / plan.time_scale),
            eventgrid_subscriptions=[f"IncomingCall={webhook}"],
            faults=plan.faults(urls),
        )
        emulator = resources.enter_context(EmulatorServer(config))
        environment = {
            **os.environ,
            # The sample settings, as the dev host would load them, then where this run's services listen.
            **read_local_settings(REPO_ROOT / "local.settings.sample.json").values,
            **app_environment(emulator, azurite, urls[0], plan.time_scale),
            "WATCHDOG_SCHEDULE": EVERY_SECOND,
            "CLAIM_LEASE_SECONDS": str(plan.lease_seconds),
            "WATCHDOG_GRACE_SECONDS": str(plan.grace_seconds),
            "RECORDING_ENABLED_FLOWS": "",  # the order-status path never pauses; recordings are not what is measured
            # A dropped answer is re-asked like a failed input; the callers never give up, and neither should the IVR.
            "IVR_MAX_RETRIES": "10",
        }
        _seed(environment)
        log_dir = Path(resources.enter_context(tempfile.TemporaryDirectory(prefix="chaos-")))
        apps = [
            AppInstance(f"instance-{index}", port, environment, log_dir, app_dir) for index, port in enumerate(ports)
        ]
        for app in apps:
            resources.callback(app.stop)
            app.start()
        yield ChaosStack(azurite=azurite, emulator=emulator, instances=apps, environment=environment)


def _seed(environment: dict[str, str]) -> None:
    """The demo routing rules and orders, written with the app's own settings."""
    command = [sys.executable, "-m", "shared.seed"]
    seeded = subprocess.run(command, env=environment, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)  # noqa: S603
    if seeded.returncode != 0:
        raise RuntimeError(f"seeding the demo data failed: {seeded.stderr.strip()[-2000:]}")


# --- the callers -----------------------------------------------------------------------------------------------------


def _path(value: str) -> str:
    return quote(value, safe=":+=")


class ChaosCaller:
    """A caller that answers whatever the app asks: 1 at the menu, the order number when asked for it, and hangs up
    at the menu once the order's status was read out. Asked again (a re-prompt), it answers again."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        stack: ChaosStack,
        signals: TimelineSignals,
        index: int,
        milestone: Milestone,
    ) -> None:
        self.session = session
        self.milestone = milestone
        self.stack = stack
        self.signals = signals
        self.number = caller_number(index, block=3)
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

    def __init__(self, stack: ChaosStack, slack: float = STUCK_SLACK_SECONDS) -> None:
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


async def _kill_and_restart(stack: ChaosStack, plan: ChaosPlan, mid_call: Milestone, kills: list[str]) -> None:
    """Once mid_call is reached, SIGKILL the last instance; start it again restart_after_seconds later."""
    await mid_call.reached.wait()
    victim = stack.instances[-1]
    victim.kill()
    kills.append(f"{victim.name} killed at {datetime.now(UTC).isoformat()}")
    await asyncio.sleep(plan.restart_after_seconds)
    await asyncio.to_thread(victim.start)
    kills.append(f"{victim.name} restarted at {datetime.now(UTC).isoformat()}")


async def _drive(stack: ChaosStack, plan: ChaosPlan) -> tuple[list[ChaosCaller], list[str], StuckWatch, list[str]]:
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
            await _wait_for_states_to_end(watch, callers, stack)
            stop_watching.set()
            await watcher
    errors = [f"{caller.number}: {outcome!r}" for caller, outcome in zip(callers, outcomes, strict=True) if outcome]
    return callers, errors, watch, kills


async def _wait_for_states_to_end(watch: StuckWatch, callers: list[ChaosCaller], stack: ChaosStack) -> None:
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


def last_steps(stack: ChaosStack, audit: CallAudit, count: int = 12) -> str:
    """The end of a call's timeline, to tell why it was lost."""
    entries = stack.control.timeline(audit.server_call_id)[-count:]
    return "; ".join(f"{entry['kind']}:{entry['summary']}" for entry in entries)


def measure_chaos(stack: ChaosStack, plan: ChaosPlan) -> ChaosResult:
    """Run the plan's calls through the stack and audit them."""
    stack.control.reset()
    stack.control.set_faults(plan.faults([instance.url for instance in stack.instances]))
    started = time.monotonic()
    callers, errors, watch, kills = asyncio.run(_drive(stack, plan))
    wall = time.monotonic() - started
    connections = {
        caller.server_call_id: stack.control.call(caller.server_call_id)["callConnectionIds"]
        for caller in callers
        if caller.server_call_id
    }
    audits = []
    for caller in callers:
        if not caller.server_call_id:
            continue
        legs = connections[caller.server_call_id]
        ended = bool(legs) and all(watch.states.get(leg, {}).get("step") == "ended" for leg in legs)
        audit = audit_call(
            stack.control.timeline(caller.server_call_id),
            completed=caller.heard_status and caller.hung_up,
            ended_in_state=ended,
        )
        audit.server_call_id = caller.server_call_id
        audit.stuck = next((watch.stuck[leg] for leg in legs if leg in watch.stuck), None)
        audits.append(audit)
    problems = errors[:10]
    problems += [f"{a.server_call_id[-12:]}: duplicated {', '.join(a.duplicated)}" for a in audits if a.duplicated]
    problems += [f"{a.server_call_id[-12:]}: extra {', '.join(a.extra)}" for a in audits if a.extra]
    problems += [f"{a.server_call_id[-12:]}: stuck, {a.stuck}" for a in audits if a.stuck]
    problems += [
        f"{a.server_call_id[-12:]}: lost (completed={a.completed}, ended={a.ended_in_state}); "
        f"last: {last_steps(stack, a)}"
        for a in audits
        if a.lost
    ]
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
