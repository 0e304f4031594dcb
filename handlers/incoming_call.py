"""IncomingCall: answer into a flow, redirect or reject, once per call however often Event Grid delivers it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from handlers import masking
from handlers.call_routing import ANSWER, REDIRECT, decide_route, rule_key
from shared import answering, tracing
from shared.acs import Answer, repeatability_headers
from shared.context import Context
from shared.engine import Flow
from shared.errors import StateConflict
from shared.events import IncomingCall
from shared.logging import call_logger, mask
from shared.routing_rules import RoutingRule
from shared.state import ANSWERING, CallState, IncomingCallRecord
from shared.streaming import call_streaming

logger = logging.getLogger(__name__)


async def on_incoming_call(call: IncomingCall, ctx: Context, flows: Collection[Flow]) -> None:
    """Apply the called number's routing rule; a redelivered IncomingCall is a no-op once handled."""
    tracing.annotate(event_type=call.type, correlation_id=call.correlation_id, server_call_id=call.server_call_id)
    entity = await ctx.routing_rules.get(rule_key(call.callee))
    rule = RoutingRule.from_entity(rule_key(call.callee), entity) if entity else None
    pairing = None
    if rule is not None and rule.mode == masking.NAME:
        pairing = await ctx.pairings.find(proxy=rule.number, caller=call.caller.phone_number or call.caller.raw_id)
    answerable = {flow.name for flow in flows if flow.answers_incoming}
    decision = decide_route(call, rule, ctx.settings, ctx.clock(), pairing, answerable)
    # The same IncomingCall always produces the same request id, so ACS ignores a repeated answer/redirect/reject.
    key, first_sent = f"incoming/{call.server_call_id}/{decision.action}", first_sent_of(call, ctx)
    if decision.action == ANSWER:
        await answer(call, decision.flow, ctx, key, first_sent, decision.data, reason=decision.reason)
        return
    if _handled_before(call, await ctx.state.get_incoming_call(server_call_id=call.server_call_id)):
        return
    _log_decision(call, decision.action, decision.reason)
    if decision.action == REDIRECT:
        await ctx.acs.redirect(call.incoming_call_context, decision.target, repeatability_headers(key, first_sent))
        outcome = "redirected"
    else:
        await ctx.acs.reject(call.incoming_call_context, decision.reject_reason, repeatability_headers(key, first_sent))
        outcome = "rejected"
    await ctx.state.put_incoming_call(record=IncomingCallRecord(server_call_id=call.server_call_id, outcome=outcome))


def _handled_before(call: IncomingCall, record: IncomingCallRecord | None) -> bool:
    """Whether an earlier delivery of the IncomingCall answered, redirected or rejected the call (then logged)."""
    if record is None or not record.final:
        return False
    call_logger(logger, call).info("IncomingCall %s already %s; ignored", call.id, record.outcome)
    return True


def _log_decision(call: IncomingCall, action: str, reason: str) -> None:
    call_logger(logger, call).info(
        "Call from %s to %s: %s (%s)", mask(call.caller.raw_id), mask(call.callee.raw_id), action, reason
    )


async def answer(
    call: IncomingCall,
    flow: str,
    ctx: Context,
    key: str,
    first_sent: str,
    extra: Mapping[str, str] | None = None,
    *,
    reason: str = "",
) -> None:
    """Answer into flow and create the call's state at its first step (its data: who called whom, and extra),
    unless an earlier delivery of the IncomingCall has already answered, redirected or rejected the call."""
    data = {
        "caller": call.caller.raw_id,
        "callee": call.callee.raw_id,
        "correlation_id": call.correlation_id,
        **(extra or {}),
    }
    # Recorded before answering, so a CallConnected that overtakes the state write below can adopt the call. The
    # first delivery's record is an insert, which is also how a redelivery learns of it: one write, no read.
    record = IncomingCallRecord(server_call_id=call.server_call_id, outcome="answering", flow=flow, data=data)
    earlier = await ctx.state.add_incoming_call(record=record)
    if _handled_before(call, earlier):
        return
    if earlier is not None:
        await ctx.state.put_incoming_call(record=record)  # a try that stopped half-way: this decision stands
    _log_decision(call, ANSWER, reason)
    with answering.answering(call.server_call_id):  # a CallConnected on this instance waits for the state write
        await _answer(call, flow, ctx, key, first_sent, data)


async def _answer(
    call: IncomingCall, flow: str, ctx: Context, key: str, first_sent: str, data: Mapping[str, str]
) -> None:
    request = Answer(
        incoming_call_context=call.incoming_call_context,
        callback_url=ctx.settings.callback_url,
        flow=flow,
        cognitive_services_endpoint=ctx.settings.cognitive_services_endpoint,
        streaming=call_streaming(flow, ctx.settings),
    )
    call_connection_id = await ctx.acs.answer(request, repeatability_headers(key, first_sent))
    # The state (unless a CallConnected has already created it from the record) and the final record, in two
    # partitions, concurrently. If only the record is written (a crash), the first callback still creates the
    # state from it, as it does when it overtakes this write; a redelivered IncomingCall is then a no-op.
    state = CallState(
        call_connection_id=call_connection_id,
        server_call_id=call.server_call_id,
        flow=flow,
        step=ANSWERING,
        data=data,
        deadline=ctx.clock()
        + timedelta(seconds=ctx.settings.watchdog_grace_seconds + ctx.settings.claim_lease_seconds),
    )
    answered = IncomingCallRecord(
        server_call_id=call.server_call_id,
        outcome="answered",
        flow=flow,
        data=data,
        call_connection_id=call_connection_id,
    )
    await asyncio.gather(create_state(state, ctx), ctx.state.put_incoming_call(record=answered))
    tracing.annotate(connection_id=call_connection_id, flow=flow)
    call_logger(logger, call).info("Answered into %s as call %s", flow, call_connection_id)


async def create_state(state: CallState, ctx: Context) -> None:
    # A CallConnected that overtook this write has already created (and moved) the call.
    with contextlib.suppress(StateConflict):
        await ctx.state.commit(state)


def first_sent_of(call: IncomingCall, ctx: Context) -> str:
    """Repeatability-First-Sent: the event's own time, identical on every redelivery."""
    try:
        sent = datetime.fromisoformat(call.time) if call.time else ctx.clock()
    except ValueError:
        sent = ctx.clock()
    return format_datetime((sent if sent.tzinfo else sent.replace(tzinfo=UTC)).astimezone(UTC), usegmt=True)
