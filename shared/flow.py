"""Move a call from one step to the next exactly once per event, whatever the delivery does.

The protocol for one callback event (docs/app-flows.md "Delivery semantics"):
1. load the call's state and this event's marker in one read;
2. ignore the event if it was processed, arrived after the call ended, or belongs to a step the call has left;
3. decide the next step and its actions (a pure function of the state);
4. claim: write the new step, the actions as a pending outbox and the event marker in one conditional
   transaction; losing the ETag race means someone else moved the call, so re-read and decide again;
5. issue the actions (repeatable ones with deterministic Repeatability-Request-IDs), then clear the outbox.
A redelivery that finds its own outbox still pending (a crash between 4 and 5) re-issues it; media actions are
preceded by cancel_all_media_operations, so a prompt that did go out is replaced rather than heard twice.
An event that finds no state (it overtook the IncomingCall handler's state write) starts from the call's
IncomingCall record, and step 4 inserts the state instead of updating it: still one transaction, and an insert
never overwrites the handler's state (losing that race re-reads, as in step 4).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from shared.actions import Action, CancelAllMedia
from shared.context import Context
from shared.errors import StateConflict
from shared.events import CallEvent
from shared.logging import call_logger
from shared.state import ANSWERING, CallState, utc_now_http_date

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass(frozen=True, kw_only=True)
class Transition:
    """The next step of a call and the actions that take it there."""

    step: str
    actions: tuple[Action, ...] = ()
    retries: int | None = None
    data: Mapping[str, Any] | None = None


Decide = Callable[[CallState], Transition | None]


async def advance(
    event: CallEvent, ctx: Context, *, decide: Decide, from_steps: Collection[str] | None = None
) -> CallState | None:
    """Apply decide to the call's state exactly once for this event; return the state afterwards.

    from_steps lists the steps in which the event is expected; in any other step it is stale and ignored.
    None accepts every step that has not ended.
    """
    log = call_logger(logger, event)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        state, seen = await ctx.state.load(call_connection_id=event.call_connection_id, event_id=event.id)
        adopting = state is None
        if adopting:
            # The event overtook the IncomingCall handler's state write: start from the call's IncomingCall
            # record and create the state below, in the same single write that claims this event.
            state = await _answered_call(event, ctx)
            if state is None:
                log.warning("%s for a call this app does not know; ignored", event.type)
                return None
        if seen:
            if state.pending and state.pending_event_id == event.id:
                log.warning("%s redelivered with its actions still pending; re-issuing them", event.type)
                return await _execute(state, ctx, resuming=True)
            log.info("%s %s already processed; ignored", event.type, event.id)
            return state
        if state.ended:
            log.info("%s after the call ended; ignored", event.type)
            return state
        if from_steps is not None and state.step not in from_steps:
            log.info("Stale %s (%s): the call is at step %s", event.type, event.operation_context, state.step)
            return await _adopted(state, ctx) if adopting else state
        transition = decide(state)
        if transition is None:
            return await _adopted(state, ctx) if adopting else state
        # A transition without actions leaves the outbox alone: another event may still be sending its own.
        outbox = (
            {"pending": transition.actions, "pending_event_id": event.id, "pending_since": utc_now_http_date()}
            if transition.actions
            else {}
        )
        claimed = replace(
            state,
            step=transition.step,
            retries=state.retries if transition.retries is None else transition.retries,
            data={**state.data, **(transition.data or {})},
            **outbox,
        )
        try:
            if adopting:
                # State, outbox and this event's marker in one transaction; None if the state appeared meanwhile.
                created = await ctx.state.create(state=claimed, event_id=event.id)
                if created is None:
                    raise StateConflict(f"call {event.call_connection_id}: state created concurrently")
                saved = created
            else:
                saved = await ctx.state.save(state=claimed, event_id=event.id)
        except StateConflict:
            log.info("%s lost a concurrent update (attempt %d); re-reading", event.type, attempt)
            continue
        log.info("%s: %s -> %s, %d action(s)", event.type, state.step, saved.step, len(transition.actions))
        return await _execute(saved, ctx, resuming=False) if transition.actions else saved
    raise StateConflict(f"call {event.call_connection_id}: {event.type} kept losing concurrent updates")


async def _execute(state: CallState, ctx: Context, *, resuming: bool) -> CallState:
    """Issue the outbox, then clear it unless a newer transition has replaced it meanwhile."""
    key = f"{state.call_connection_id}/{state.step}/{state.pending_event_id}"
    if resuming and any(action.is_media for action in state.pending):
        await ctx.acs.run(
            state.call_connection_id,
            (CancelAllMedia(),),
            repeatability_key=f"{key}/resume",
            first_sent=state.pending_since,
        )
    if state.pending:
        # Same key as the first attempt, so repeatable actions carry the same Repeatability-Request-ID.
        await ctx.acs.run(
            state.call_connection_id, state.pending, repeatability_key=key, first_sent=state.pending_since
        )
    for _ in range(MAX_ATTEMPTS):
        if not state.pending:
            return state
        try:
            return await ctx.state.save(state=replace(state, pending=(), pending_event_id="", pending_since=""))
        except StateConflict:
            fresh, _ = await ctx.state.load(call_connection_id=state.call_connection_id, event_id="")
            if fresh is None or fresh.pending_event_id != state.pending_event_id:
                return fresh or state
            state = fresh
    raise StateConflict(f"call {state.call_connection_id}: could not clear the outbox")


async def _answered_call(event: CallEvent, ctx: Context) -> CallState | None:
    """The initial state (not yet stored) of a call answered moments ago whose IncomingCall handler has not
    saved its state yet, from the IncomingCall record written before the answer; None for a call not answered here.
    """
    if not event.server_call_id:
        return None
    record = await ctx.state.get_incoming_call(server_call_id=event.server_call_id)
    if record is None or not record.flow:
        return None
    return CallState(call_connection_id=event.call_connection_id, flow=record.flow, step=ANSWERING, data=record.data)


async def _adopted(initial: CallState, ctx: Context) -> CallState:
    """Store an adopted call's initial state for an event that does not move it; whoever stored it first wins."""
    created = await ctx.state.create(state=initial)
    if created is not None:
        return created
    state, _ = await ctx.state.load(call_connection_id=initial.call_connection_id, event_id="")
    return state or initial
