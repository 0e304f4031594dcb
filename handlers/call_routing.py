"""IncomingCall routing rules: per called number, with defaults from settings. Pure: no I/O here."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from handlers import masking
from shared.events import Identifier, IncomingCall
from shared.routing_rules import RoutingRule
from shared.settings import Settings

ANSWER = "answer"
REDIRECT = "redirect"
REJECT = "reject"


@dataclass(frozen=True, kw_only=True)
class RouteDecision:
    action: str
    reason: str
    flow: str = ""
    target: str = ""
    reject_reason: str = ""
    data: Mapping[str, str] = field(default_factory=dict)


def rule_key(callee: Identifier) -> str:
    """The routing-table key of a called party: its E.164 number, or its raw id."""
    return callee.phone_number or callee.raw_id


def matches(caller: Identifier, entries: tuple[str, ...]) -> bool:
    return caller.raw_id in entries or (caller.phone_number is not None and caller.phone_number in entries)


def is_open(hours: str, timezone: str, now: datetime) -> bool:
    """Whether now falls within "HH:MM-HH:MM" in timezone; windows may span midnight."""
    opening, _, closing = hours.partition("-")
    local = now.astimezone(ZoneInfo(timezone)).time()
    start, end = time.fromisoformat(opening), time.fromisoformat(closing)
    return start <= local < end if start <= end else local >= start or local < end


def decide_route(
    call: IncomingCall,
    rule: RoutingRule | None,
    settings: Settings,
    now: datetime,
    pairing: tuple[str, str] | None = None,
    answerable: Collection[str] = (),
) -> RouteDecision:
    """Reject blocked callers and busy lines, forward or redirect after hours, otherwise answer into a flow.

    pairing is the caller's (pairing name, peer) on a masking proxy number, looked up by the caller; answerable
    names the flows a rule may answer into (others fall back to ROUTING_DEFAULT_FLOW).
    """
    rule = rule or RoutingRule(number=rule_key(call.callee))
    if matches(call.caller, settings.routing_blocked_callers + rule.blocked_callers):
        return RouteDecision(action=REJECT, reason="blocked caller", reject_reason="forbidden")
    if rule.mode == "busy":
        return RouteDecision(action=REJECT, reason="line busy", reject_reason="busy")
    if rule.mode == masking.NAME:
        if pairing is None:
            return RouteDecision(action=REJECT, reason="caller in no pairing", reject_reason="forbidden")
        name, peer = pairing
        data = {"pairing": name, "peer": peer, "proxy": rule.number}
        return RouteDecision(action=ANSWER, reason="masked call", flow=masking.NAME, data=data)
    if rule.mode == "forward" and rule.forward_to:
        return RouteDecision(action=REDIRECT, reason="number forwards", target=rule.forward_to)
    hours = rule.business_hours or settings.routing_business_hours
    after_hours_target = rule.after_hours_target or settings.routing_after_hours_target
    if hours and after_hours_target and not is_open(hours, rule.timezone or settings.routing_timezone, now):
        return RouteDecision(action=REDIRECT, reason="after hours", target=after_hours_target)
    flow = rule.flow if rule.flow in answerable else settings.routing_default_flow
    return RouteDecision(action=ANSWER, reason="answered", flow=flow)
