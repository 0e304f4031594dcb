"""One engine per event: load the call's state once, run the policies around the flow's transition table, persist
once, then issue the actions while holding a lease on them.

For one callback event (docs/app-flows.md "Delivery semantics"), unless no flow and no policy acts on its type (then
it is let go unread):
1. load the call's state, which keeps the markers of the events that changed it, in one point read (a call without
   state is adopted from its IncomingCall record, or answered 503 while the app that placed it is still writing it);
2. an event whose marker is in the state was handled: if its claim's lease is live, the first copy is still issuing
   its actions and this copy does nothing; otherwise it is a late duplicate and is ignored;
3. dispatch on (flow, step, event type, operation context) to the flow's transition table, inside the ordered
   policies (call ended, recording, call notes, continuous DTMF); an event the step does not expect is stale;
4. claim: the new step, its deadline, the actions as an outbox leased to this instance and the event's marker,
   in one conditional single-entity write; losing the ETag race re-reads and decides again;
5. issue the actions (repeatable ones with deterministic Repeatability-Request-IDs), stopping if the lease runs out.
A step whose actions never went out (a crash between 4 and 5) or whose answer never came (a dropped callback)
passes its deadline; the watchdog (Engine.sweep, a timer function) then asks ACS about the call and recovers it
through the same table, with a StepOverdue event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from shared import answering, tracing
from shared.acs import ActionResult
from shared.actions import Action
from shared.context import Context
from shared.deadlines import step_wait
from shared.errors import DependencyUnavailable, StateConflict
from shared.events import CallEvent
from shared.logging import call_logger
from shared.settings import Settings
from shared.state import ANSWERING, ENDED, CallState, Loaded, Outbox, http_date

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# The engine's own event types: the watchdog found the step overdue and the call still there / gone.
STEP_OVERDUE = "StepOverdue"
CALL_DISCONNECTED = "CallDisconnected"
ANY_STEP = "*"


@dataclass(frozen=True, kw_only=True)
class Transition:
    """The next step of a call, the actions that take it there, and data to remember."""

    step: str
    actions: tuple[Action, ...] = ()
    retries: int | None = None
    data: Mapping[str, Any] | None = None
    # Seconds the step may wait for ACS before the watchdog recovers it; None derives it from the actions.
    wait: float | None = None

    def with_data(self, **data: Any) -> Transition:
        return replace(self, data={**(self.data or {}), **data})

    def then(self, *actions: Action) -> Transition:
        return replace(self, actions=(*self.actions, *actions))

    def first(self, *actions: Action) -> Transition:
        return replace(self, actions=(*actions, *self.actions))


@dataclass(frozen=True)
class Turn:
    """One event meeting one call: what a transition or a policy decides from."""

    state: CallState
    event: CallEvent
    flow: Flow
    ctx: Context
    now: datetime

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def stay(self, **data: Any) -> Transition:
        """Stay at the current step, remembering data."""
        return Transition(step=self.state.step, data=data or None)


Handler = Callable[[Turn], Awaitable[Transition | None]]


@dataclass(frozen=True)
class On:
    """One row of a flow's transition table: in these steps, on this event (with this operation context)."""

    event_type: str
    steps: str | tuple[str, ...]
    handler: Handler
    context: str | None = None

    @property
    def step_names(self) -> tuple[str, ...]:
        return (self.steps,) if isinstance(self.steps, str) else self.steps


@dataclass(frozen=True)
class Flow:
    """A call flow: its name, steps and transition table. A new flow is one of these, registered once."""

    name: str
    steps: tuple[str, ...]
    transitions: tuple[On, ...]
    # Steps during which the call's recording is paused (the caller keys what must not be recorded).
    sensitive_steps: frozenset[str] = frozenset()
    # Whether IncomingCall routing rules may answer calls into this flow.
    answers_incoming: bool = False
    _table: dict[tuple[str, str, str | None], On] = field(default_factory=dict, init=False, repr=False)
    _events: set[tuple[str, str | None]] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        known = {*self.steps, ENDED, ANY_STEP}
        for row in self.transitions:
            for step in row.step_names:
                if step not in known:
                    raise ValueError(f"flow {self.name}: {row.event_type} names unknown step {step!r}")
                key = (step, row.event_type, row.context)
                if key in self._table:
                    raise ValueError(f"flow {self.name}: two transitions for {key}")
                self._table[key] = row
            self._events.add((row.event_type, row.context))

    def acts_on(self, event_type: str, context: str | None) -> bool:
        """Whether some step of the flow has a row for this event (a row without an operation context takes any)."""
        return (event_type, None) in self._events or (event_type, context) in self._events

    def transition_for(self, step: str, event_type: str, context: str | None) -> On | None:
        """The row for this step and event, the most specific first (exact step and context before wildcards)."""
        for candidate in ((step, context), (step, None), (ANY_STEP, context), (ANY_STEP, None)):
            row = self._table.get((candidate[0], event_type, candidate[1]))
            if row is not None:
                return row
        return None


def once_connected(handler: Handler) -> Handler:
    """A StepOverdue row for a call whose CallConnected never arrived: handler runs once the watchdog finds the call
    connected (as if CallConnected had come); until then the step keeps waiting another WATCHDOG_GRACE_SECONDS."""

    async def recover(turn: Turn) -> Transition | None:
        if turn.event.data.get("state") != "connected":
            return Transition(step=turn.state.step, wait=turn.settings.watchdog_grace_seconds)
        return await handler(turn)

    return recover


def split_context(operation_context: str | None) -> tuple[str | None, str | None]:
    """("main-menu", "7") from "main-menu/7": the context a flow declared, and the claim that issued it."""
    if not operation_context:
        return None, None
    base, slash, tag = operation_context.rpartition("/")
    if slash and tag.isdigit():
        return base, tag
    return operation_context, None


Next = Callable[[Turn], Awaitable[Transition | None]]


Around = Callable[[Turn, Next], Awaitable[Transition | None]]


@dataclass(frozen=True)
class Policy:
    """Cross-cutting behaviour around every flow: around sees the turn, calls inner (the rest of the chain), adjusts."""

    around: Around
    # The event types it decides on by itself; for any other event it only adjusts what the flow decided, so an
    # event no flow and no policy acts on is ignored without reading the call's state.
    event_types: frozenset[str]


# What to do with an action's result once it is sent (e.g. remember which call a new recording belongs to).
AfterIssue = Callable[[Context, CallState, Action, ActionResult], Awaitable[None]]


class CallNotReady(DependencyUnavailable):
    """An event for a call whose state is not written yet; answered 503 so ACS redelivers it."""


@dataclass
class _Claimed:
    """What one attempt of a turn decided: the state to write, and whether it carries actions to issue."""

    state: CallState | None = None
    issue: bool = False
    # The event's marker is in the state: a duplicate, whichever copy of the state it was found in.
    handled: bool = False


class Engine:
    """Runs every callback event of every flow; also the watchdog's sweep (recover overdue calls, purge old ones)."""

    def __init__(
        self, flows: Iterable[Flow], policies: Sequence[Policy], *, after_issue: AfterIssue | None = None
    ) -> None:
        self.flows = {flow.name: flow for flow in flows}
        self.policies = tuple(policies)
        self.after_issue = after_issue
        # Types acted on in every flow: the policies', and the watchdog's StepOverdue (answered at least with "keep
        # waiting").
        self._every_flow_event_types = frozenset({STEP_OVERDUE}).union(
            *(policy.event_types for policy in self.policies)
        )
        self._event_types = self._every_flow_event_types | {
            row.event_type for flow in self.flows.values() for row in flow.transitions
        }

    def flow(self, name: str) -> Flow | None:
        return self.flows.get(name)

    async def handle(self, event: CallEvent, ctx: Context) -> CallState | None:
        """Process one callback event exactly once for its call; returns the call's state afterwards (None for a call
        without state, and for an event no flow or policy acts on, whose call's state is not read)."""
        with tracing.span(
            event.type,
            connection_id=event.call_connection_id,
            correlation_id=event.correlation_id,
            server_call_id=event.server_call_id,
            event_type=event.type,
            event_id=event.id,
        ):
            return await self._handle(event, ctx)

    async def _handle(self, event: CallEvent, ctx: Context) -> CallState | None:
        if event.type not in self._event_types:
            tracing.annotate(ignored="no flow or policy acts on this event type")
            return None  # whatever the call's state: its state is not even read
        log = call_logger(logger, event)
        confirming = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            # Confirming a decision made on a cached copy reads the stored state, past the cache.
            loaded = await ctx.state.load(event.call_connection_id, for_event=not confirming)
            if loaded.state is None and await answering.answered(event.server_call_id):
                continue  # this instance has just written the state it was answering the call with
            if loaded.state is not None:
                tracing.annotate(flow=loaded.state.flow, step=loaded.state.step)
            claimed = await self._decide(event, loaded, ctx, log)
            if claimed.state is None and loaded.cached and not claimed.handled and self._may_act(event, loaded.state):
                # Doing nothing is only right for the state as stored; a write would have proved a cached copy.
                confirming = True
                continue
            if claimed.state is None:
                return loaded.state
            confirming = False
            try:
                saved = await ctx.state.commit(claimed.state, marker=event.id)
            except StateConflict:
                log.info("%s lost a concurrent update (attempt %d); re-reading", event.type, attempt)
                continue
            if claimed.issue:
                await self._issue(saved, ctx)
            return saved
        raise StateConflict(f"call {event.call_connection_id}: {event.type} kept losing concurrent updates")

    def _may_act(self, event: CallEvent, state: CallState | None) -> bool:
        """Whether the call, at any step, could act on event. A call keeps its flow and never leaves the end, so when
        this is False, ignoring the event on a cached copy of the state is right for the stored state too."""
        if event.type in self._every_flow_event_types or state is None:
            return True
        if state.ended:
            return False
        flow = self.flows.get(state.flow)
        return flow is None or flow.acts_on(event.type, split_context(event.operation_context)[0])

    async def _decide(
        self, event: CallEvent, loaded: Loaded, ctx: Context, log: logging.LoggerAdapter[logging.Logger]
    ) -> _Claimed:
        now = ctx.clock()
        state = loaded.state or await self._adopt(event, ctx)
        if state is None:
            log.warning("%s for a call this app does not know; ignored", event.type)
            return _Claimed()
        if state.handled_event(event.id):
            outbox = state.outbox
            if outbox is not None and outbox.claim == event.id and outbox.leased(now):
                log.info("%s is being handled by %s; this copy does nothing", event.type, outbox.owner)
            else:
                log.info("%s %s already handled; ignored", event.type, event.id)
            return _Claimed(handled=True)
        if state.ended:
            log.info("%s after the call ended; ignored", event.type)
            return _Claimed()
        flow = self.flows.get(state.flow)
        if flow is None:
            log.error("%s for call in unknown flow %r; ignored", event.type, state.flow)
            return _Claimed()
        transition = await self._run_policies(Turn(state, event, flow, ctx, now))
        if transition is None:
            return _Claimed()
        recovering = event.type == STEP_OVERDUE
        return self._claim(state, transition, claim=event.id, ctx=ctx, now=now, log=log, recovering=recovering)

    async def _adopt(self, event: CallEvent, ctx: Context) -> CallState | None:
        """The initial (unsaved) state of a call answered moments ago whose IncomingCall handler has not written it yet;
        for a call the app placed, CallNotReady until its state is written; None for a call the app does not know."""
        if event.server_call_id:
            record = await ctx.state.get_incoming_call(server_call_id=event.server_call_id)
            if record is not None and record.flow:
                return CallState(
                    call_connection_id=event.call_connection_id,
                    server_call_id=event.server_call_id,
                    flow=record.flow,
                    step=ANSWERING,
                    data=record.data,
                )
        context, _ = split_context(event.operation_context)
        flow = self.flows.get(context or "")
        if flow is not None and not flow.answers_incoming:
            # Calls are placed with their flow's name as operation context: its state is being written right now.
            raise CallNotReady(f"call {event.call_connection_id}: {event.type} arrived before the call's state")
        return None

    async def _run_policies(self, turn: Turn) -> Transition | None:
        async def run(index: int, current: Turn) -> Transition | None:
            if index == len(self.policies):
                return await self._transition(current)
            return await self.policies[index].around(current, lambda next_turn: run(index + 1, next_turn))

        return await run(0, turn)

    async def _transition(self, turn: Turn) -> Transition | None:
        """The flow's own transition for this turn, or None for an event the step does not expect."""
        event, state = turn.event, turn.state
        context, tag = split_context(event.operation_context)
        row = turn.flow.transition_for(state.step, event.type, context)
        if row is not None and row.context is not None and tag is not None and tag != state.tag:
            call_logger(logger, event).info(
                "Stale %s (%s): the step's newest request is /%s", event.type, event.operation_context, state.tag
            )
            return None
        transition = await row.handler(turn) if row is not None else None
        if transition is None and event.type == STEP_OVERDUE:
            # Nothing to change: keep waiting, and ask ACS about the call again after WATCHDOG_IDLE_SECONDS.
            return Transition(step=state.step, wait=turn.settings.watchdog_idle_seconds)
        return transition

    def _claim(
        self,
        state: CallState,
        transition: Transition,
        *,
        claim: str,
        ctx: Context,
        now: datetime,
        log: Any,
        recovering: bool,
    ) -> _Claimed:
        """The state after transition, claimed by claim: new step, outbox leased to this instance, new deadline.

        The deadline moves whenever the call moves (or the watchdog has just looked at it); a note that leaves the
        step as it was keeps the step's deadline.
        """
        settings = ctx.settings
        data = {**state.data, **(transition.data or {})}
        retries = state.retries if transition.retries is None else transition.retries
        claimed = replace(state, step=transition.step, retries=retries, data=data)
        if transition.step == ENDED:
            claimed = replace(claimed, deadline=None, ended_at=now)
            log.info("%s: %s -> ended", claim, state.step)
            return _Claimed(claimed, issue=False)
        moved = transition.step != state.step or transition.actions
        if transition.actions:
            tag = str(state.claims + 1)
            outbox = Outbox(
                claim=claim,
                tag=tag,
                actions=tuple(action.tagged(tag) for action in transition.actions),
                owner=ctx.instance_id,
                lease_until=now + timedelta(seconds=settings.claim_lease_seconds),
                first_sent=http_date(now),
            )
            claimed = replace(claimed, claims=state.claims + 1, outbox=outbox)
        if moved or recovering or transition.wait is not None:
            wait = transition.wait
            if wait is None:
                wait = step_wait(transition.actions, settings) if transition.actions else settings.watchdog_idle_seconds
            claimed = replace(claimed, deadline=now + timedelta(seconds=max(wait, settings.claim_lease_seconds)))
        log.info("%s: %s -> %s, %d action(s)", claim, state.step, transition.step, len(transition.actions))
        return _Claimed(claimed, issue=bool(transition.actions))

    async def _issue(self, state: CallState, ctx: Context) -> None:
        """Send the claimed outbox; on a failure, hand the step to the watchdog at once instead of at its deadline."""
        outbox = state.outbox
        assert outbox is not None
        try:
            results = await ctx.acs.run(state.call_connection_id, outbox, clock=ctx.clock)
        except Exception:
            logger.exception("Issuing %d action(s) for call %s failed", len(outbox.actions), state.call_connection_id)
            await self._expire(state, ctx)
            return
        for action, result in zip(outbox.actions, results, strict=False):
            if result is not None and self.after_issue is not None:
                await self.after_issue(ctx, state, action, result)

    async def _expire(self, state: CallState, ctx: Context) -> None:
        """End the lease and make the step overdue now, unless another event moved the call meanwhile."""
        now = ctx.clock()
        assert state.outbox is not None
        expired = replace(state, outbox=replace(state.outbox, lease_until=now), deadline=now)
        try:
            await ctx.state.commit(expired)
        except StateConflict:
            logger.info("Call %s moved on while its actions failed; the newer step stands", state.call_connection_id)

    async def recover(self, state: CallState, ctx: Context) -> CallState | None:
        """Recover one overdue call: ask ACS whether it is still there, then run the flow's StepOverdue transition
        (or CallDisconnected if it is gone) through the usual claim. None when there is nothing to do (yet)."""
        now = ctx.clock()
        if state.outbox is not None and state.outbox.leased(now):
            return None
        probe = await ctx.acs.probe(state.call_connection_id)
        assert state.deadline is not None
        claim = f"watchdog/{state.deadline.isoformat()}"
        event_type = CALL_DISCONNECTED if probe is None else STEP_OVERDUE
        event = CallEvent(
            id=claim,
            type=event_type,
            call_connection_id=state.call_connection_id,
            server_call_id=state.server_call_id,
            time=now.isoformat(),
            data={"state": probe.state, "participants": sorted(probe.participants)} if probe else {},
        )
        log = call_logger(logger, event)
        log.warning(
            "Call %s overdue at step %s (deadline %s): %s",
            state.call_connection_id,
            state.step,
            state.deadline.isoformat(),
            "still connected" if probe else "gone",
        )
        return await self.handle(event, ctx)

    async def sweep(self, ctx: Context, *, limit: int = 100) -> SweepReport:
        """The watchdog: recover calls past their step deadline, then delete calls ended longer ago than retention."""
        now = ctx.clock()
        overdue = await ctx.state.overdue(now, limit=limit)
        recovered = 0
        for outcome in await asyncio.gather(*(self._recover_logged(state, ctx) for state in overdue)):
            recovered += outcome
        cutoff = now - timedelta(hours=ctx.settings.state_retention_hours)
        purged_calls = 0
        for state in await ctx.state.ended_before(cutoff, limit=limit):
            await ctx.state.purge(state)
            purged_calls += 1
        purged_incoming = await ctx.state.purge_incoming_before(cutoff, limit=limit)
        report = SweepReport(overdue=len(overdue), recovered=recovered, purged=purged_calls + purged_incoming)
        if report.overdue or report.purged:
            logger.info("Watchdog: %s", report)
        return report

    async def _recover_logged(self, state: CallState, ctx: Context) -> int:
        try:
            return int(await self.recover(state, ctx) is not None)
        except Exception:
            # One call's trouble must not stop the sweep; the next sweep tries it again.
            logger.exception("Watchdog could not recover call %s", state.call_connection_id)
            return 0


@dataclass(frozen=True)
class SweepReport:
    overdue: int
    recovered: int
    purged: int


Change = Callable[[CallState], Mapping[str, Any] | None]


async def update_data(ctx: Context, call_connection_id: str, change: Change) -> CallState | None:
    """Merge change(state) into a call's data outside any event (the HTTP API), under the same conditional write.

    None when the call has no state; the state unchanged when change returns None.
    """
    for _ in range(MAX_ATTEMPTS):
        state = (await ctx.state.load(call_connection_id)).state
        if state is None:
            return None
        patch = change(state)
        if patch is None:
            return state
        try:
            return await ctx.state.commit(replace(state, data={**state.data, **patch}))
        except StateConflict:
            continue
    raise StateConflict(f"call {call_connection_id}: could not update its data")
