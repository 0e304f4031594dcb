"""Routing rules for incoming calls: blocked, busy, forward, after hours, answer."""

from datetime import UTC, datetime

from handlers.call_routing import decide_route, is_open
from shared.routing_rules import RoutingRule
from tests.fixtures.fakes import incoming_call, settings

NOON = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 3, 12, 23, 30, tzinfo=UTC)


def test_no_rule_answers_into_the_default_flow():
    decision = decide_route(incoming_call(), None, settings(), NOON)
    assert (decision.action, decision.flow) == ("answer", "ivr")


def test_blocked_caller_is_rejected_as_forbidden():
    decision = decide_route(incoming_call(), None, settings(routing_blocked_callers=("+18447649276",)), NOON)
    assert (decision.action, decision.reject_reason) == ("reject", "forbidden")


def test_rule_can_block_callers_too():
    rule = RoutingRule(number="+18005550100", blocked_callers=("4:+18447649276",))
    assert decide_route(incoming_call(), rule, settings(), NOON).reject_reason == "forbidden"


def test_busy_line_rejects_as_busy():
    decision = decide_route(incoming_call(), RoutingRule(number="+18005550100", mode="busy"), settings(), NOON)
    assert (decision.action, decision.reject_reason) == ("reject", "busy")


def test_forwarding_number_redirects():
    rule = RoutingRule(number="+18005550100", mode="forward", forward_to="8:acs:r_user")
    assert (decide_route(incoming_call(), rule, settings(), NOON).target) == "8:acs:r_user"


def test_after_hours_redirects_to_the_after_hours_target():
    config = settings(routing_business_hours="09:00-17:00", routing_after_hours_target="+18005550111")
    assert decide_route(incoming_call(), None, config, NOON).action == "answer"
    decision = decide_route(incoming_call(), None, config, MIDNIGHT)
    assert (decision.action, decision.target) == ("redirect", "+18005550111")


def test_opening_hours_can_span_midnight_and_respect_the_time_zone():
    assert is_open("22:00-06:00", "UTC", MIDNIGHT)
    assert not is_open("22:00-06:00", "UTC", NOON)
    assert is_open("09:00-17:00", "America/New_York", datetime(2026, 3, 12, 14, 0, tzinfo=UTC))


def test_rule_round_trips_through_its_table_entity():
    rule = RoutingRule(number="+18005550100", mode="forward", forward_to="+1800555", blocked_callers=("+1", "+2"))
    assert RoutingRule.from_entity("+18005550100", rule.to_entity()) == rule
