"""Property-based tests of the callback and Event Grid parsers: any input parses or is a BadRequest, never a crash."""

import json
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.strategies import RAW_BODIES, callback_bodies, fixture, mutated
from shared.errors import BadRequest
from shared.events import (
    CallEvent,
    EventGridNotification,
    IncomingCall,
    event_grid_envelope,
    parse_callback_body,
    parse_event_grid_event,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(callback_bodies())
def test_any_callback_body_parses_or_is_a_bad_request(body):
    try:
        events = parse_callback_body(body)
    except BadRequest as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert events and all(isinstance(event, CallEvent) for event in events)
    for event in events:  # what reaches storage keys and logs encodes as UTF-8
        event.id.encode()
        event.call_connection_id.encode()
        event.server_call_id.encode()


def grid_event(document: dict[str, Any]) -> func.EventGridEvent:
    return func.EventGridEvent(
        id=document.get("id"),
        data=document.get("data"),
        topic=document.get("topic"),
        subject=document.get("subject"),
        event_type=document.get("eventType"),
        event_time=datetime(2026, 3, 12, 12, 0, tzinfo=UTC),
        data_version="1.0",
    )


def cloud_event(document: dict[str, Any]) -> func.CloudEvent:
    return func.CloudEvent(
        id=document.get("id"),
        source=document.get("topic"),
        type=document.get("eventType"),
        specversion="1.0",
        time=None,
        subject=document.get("subject"),
        datacontenttype="application/json",
        dataschema=None,
        data=document.get("data"),
    )


INCOMING = fixture("incoming_call")[0]
DELIVERIES = st.one_of(
    st.builds(grid_event, mutated(INCOMING).filter(lambda d: isinstance(d, dict))),
    st.builds(cloud_event, mutated(INCOMING).filter(lambda d: isinstance(d, dict))),
    RAW_BODIES.map(lambda raw: cloud_event({**INCOMING, "data": raw.decode("utf-8", "replace")})),
)


@FUZZ
@given(DELIVERIES)
def test_any_event_grid_delivery_in_either_schema_parses_or_is_a_bad_request(event):
    try:
        envelope = event_grid_envelope(event)
        parsed = parse_event_grid_event(
            event_id=envelope.id, event_type=envelope.type, data=envelope.data, time=envelope.time
        )
    except BadRequest:
        return
    assert isinstance(parsed, IncomingCall | EventGridNotification)
    if isinstance(parsed, IncomingCall):
        parsed.server_call_id.encode()
        parsed.caller.raw_id.encode()
        json.dumps(dict(parsed.sip_headers)).encode()


def test_both_schemas_of_the_recorded_incoming_call_parse_alike():
    by_schema = [event_grid_envelope(build(INCOMING)) for build in (grid_event, cloud_event)]
    parsed = [parse_event_grid_event(event_id=e.id, event_type=e.type, data=e.data) for e in by_schema]
    assert parsed[0] == parsed[1] and isinstance(parsed[0], IncomingCall)


def test_cloud_event_data_sent_as_json_text_is_parsed_with_the_same_limits():
    as_text = event_grid_envelope(cloud_event({**INCOMING, "data": json.dumps(INCOMING["data"])}))
    assert as_text.data == INCOMING["data"]
    with pytest.raises(BadRequest, match="nested"):
        event_grid_envelope(cloud_event({**INCOMING, "data": "[" * 10_000 + "]" * 10_000}))
