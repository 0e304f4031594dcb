"""Read emulator call timelines: per-step latency (event raised -> action accepted) and an audit of every action."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shared.engine import split_context

ANSWER = ("AnswerCall", "ivr")  # answered into the "ivr" flow, its name as operation context
GREETING = ("CallMedia_Play", "greeting")
MENU = ("CallMedia_Recognize", "main-menu")
ORDER_NUMBER = ("CallMedia_Recognize", "order-number")
ORDER_STATUS = ("CallMedia_Play", "order-status")
START_RECORDING = ("CallRecording_StartRecording", "")
IVR_ACTIONS = (ANSWER, GREETING, MENU, ORDER_NUMBER, ORDER_STATUS)


@dataclass(frozen=True)
class Step:
    """A hop of the IVR: the event the emulator raises and the first action the app answers it with."""

    name: str
    trigger_kind: str  # timeline kind of the event: "eventgrid" or "callback"
    trigger: str  # event type without prefix
    trigger_context: str  # its operationContext ("" = any)
    action: tuple[str, str]  # (REST operation, operationContext) of the answering request

    def matches_invocation(self, kind: str, event_type: str, context: str) -> bool:
        return (
            kind == self.trigger_kind
            and event_type == self.trigger
            and (not self.trigger_context or context == self.trigger_context)
        )


STEPS = (
    Step("IncomingCall -> answer", "eventgrid", "IncomingCall", "", ANSWER),
    Step("CallConnected -> greeting", "callback", "CallConnected", "", GREETING),
    Step("menu choice -> order prompt", "callback", "RecognizeCompleted", "main-menu", ORDER_NUMBER),
    Step("order number -> status", "callback", "RecognizeCompleted", "order-number", ORDER_STATUS),
)


def declared(context: Any) -> str:
    """An operationContext as the flow declared it, without the number of the claim that issued it."""
    return (split_context(context)[0] or "") if isinstance(context, str) else ""


def request_key(entry: dict[str, Any]) -> tuple[str, str]:
    body = entry.get("detail", {}).get("body") or {}
    context = body.get("operationContext") if isinstance(body, dict) else None
    return entry["summary"], declared(context)


def accepted(entry: dict[str, Any]) -> bool:
    return entry["kind"] == "request" and entry.get("detail", {}).get("status", 500) < 300


def step_latencies(timeline: list[dict[str, Any]]) -> dict[str, float]:
    """ms from each step's event being raised to the emulator accepting the app's answering action."""
    latencies: dict[str, float] = {}
    for step in STEPS:
        for index, entry in enumerate(timeline):
            if entry["kind"] != step.trigger_kind or entry["summary"] != step.trigger:
                continue
            context = declared(entry.get("detail", {}).get("operationContext"))
            if step.trigger_context and context != step.trigger_context:
                continue
            answer = next(
                (later for later in timeline[index + 1 :] if accepted(later) and request_key(later) == step.action),
                None,
            )
            if answer is not None:
                latencies[step.name] = answer["elapsedMs"] - entry["elapsedMs"]
            break
    return latencies


@dataclass
class CallAudit:
    """Expected against actual actions of one order-status call; lost = missing, duplicated = extra."""

    expected: dict[str, int]
    actual: dict[str, int]
    failed_inputs: int = 0  # RecognizeFailed: the caller was too slow; each adds one expected re-prompt
    rejected_requests: int = 0  # requests the emulator answered with an error
    other_requests: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return sum(max(0, count - self.actual.get(key, 0)) for key, count in self.expected.items())

    @property
    def duplicated(self) -> int:
        return sum(max(0, self.actual.get(key, 0) - count) for key, count in self.expected.items())

    @property
    def unexpected(self) -> int:
        """Accepted requests of a kind this call should not have made at all (e.g. a goodbye, a media cancel)."""
        return len(self.other_requests)


def _label(key: tuple[str, str]) -> str:
    return f"{key[0]}({key[1]})" if key[1] else key[0]


def audit_order_status_call(timeline: list[dict[str, Any]], *, recorded: bool) -> CallAudit:
    """Every order-status call: 1 answer, 1 greeting, 1 order prompt, 1 status, 2 menus (+1 per failed input),
    and 1 recording start when the IVR is recorded (RECORDING_ENABLED_FLOWS)."""
    failures = Counter(
        declared(entry.get("detail", {}).get("operationContext"))
        for entry in timeline
        if entry["kind"] == "callback" and entry["summary"] == "RecognizeFailed"
    )
    expected = {
        ANSWER: 1,
        GREETING: 1,
        MENU: 2 + failures["main-menu"],
        ORDER_NUMBER: 1 + failures["order-number"],
        ORDER_STATUS: 1,
        START_RECORDING: 1 if recorded else 0,
    }
    counted = Counter(request_key(entry) for entry in timeline if accepted(entry))
    others = sorted(
        _label(request_key(entry)) for entry in timeline if accepted(entry) and request_key(entry) not in expected
    )
    return CallAudit(
        expected={_label(key): count for key, count in expected.items()},
        actual={_label(key): counted.get(key, 0) for key in expected},
        failed_inputs=sum(failures.values()),
        rejected_requests=sum(1 for entry in timeline if entry["kind"] == "request" and not accepted(entry)),
        other_requests=others,
    )


def ivr_is_recorded() -> bool:
    """Whether the app under measurement records IVR calls (its settings are in this process's environment)."""
    from shared.clients import load_settings

    return "ivr" in load_settings().recording_enabled_flows
