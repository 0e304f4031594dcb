"""The emulator's conformance scenario for one SDK version: run with that version's Python (its own venv).

`python sdk_conformance.py EMULATOR_URL ACCESS_KEY` drives a call through every operation the installed SDK has,
with its default api-version, and checks each callback against that SDK version's own generated models: the event
type must be one it knows, every data field one it declares, `data.version` its api-version. Prints one JSON line
(`{"sdk", "apiVersion", "operations", "events", "problems"}`) and exits 1 when there are problems.
Imports only the SDK, the standard library and the emulator's control client (which needs only requests).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from typing import Any

from azure.communication.callautomation import (
    CallAutomationClient,
    CommunicationUserIdentifier,
    DtmfTone,
    PhoneNumberIdentifier,
    RecognitionChoice,
    RecognizeInputType,
    ServerCallLocator,
    TextSource,
)
from azure.communication.callautomation._api_versions import DEFAULT_VERSION
from azure.communication.callautomation._generated import models
from azure.core.credentials import AzureKeyCredential

from emulator.control_client import EmulatorControl

CUSTOMER = PhoneNumberIdentifier("+15551230000")
CALLER_ID = PhoneNumberIdentifier("+15550009999")
AGENT = CommunicationUserIdentifier("8:acs:res_matrix-agent")
APP_NUMBER = "+18005550100"
COGNITIVE = "https://matrix.cognitiveservices.azure.com/"
DATA_EXTRAS = {"version", "publicEventType", "eventSource"}
# Nested models whose fields are checked too: event field -> model.
NESTED = {"participants": "CallParticipant", "choiceResult": "ChoiceResult", "speechResult": "SpeechResult"}


class Receiver(ThreadingHTTPServer):
    """Callbacks and Event Grid deliveries on 127.0.0.1, kept in arrival order."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.events: list[dict[str, Any]] = []
        self.condition = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait_for(self, event_type: str, predicate: Callable[[dict], bool] = lambda _: True) -> dict[str, Any]:
        deadline = time.monotonic() + 15
        with self.condition:
            while True:
                for event in self.events:
                    if _type(event) == event_type and predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no {event_type}; got {[_type(e) for e in self.events]}")
                self.condition.wait(remaining)


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"[]")
        if self.headers.get("aeg-event-type") == "SubscriptionValidation":
            self._answer({"validationResponse": body[0]["data"]["validationCode"]})
            return
        with self.server.condition:
            self.server.events.extend(body if isinstance(body, list) else [body])
            self.server.condition.notify_all()
        self._answer({})

    def _answer(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """No access log."""


def _type(event: dict) -> str:
    return (event.get("type") or event.get("eventType", "")).rsplit(".", 1)[-1]


def _fields(model: str) -> set[str] | None:
    cls = getattr(models, model, None)
    if not isinstance(cls, type) or not hasattr(cls, "_attribute_map"):
        return None
    return {entry["key"] for entry in cls._attribute_map.values()}


def check_callback(event: dict, api_version: str) -> list[str]:
    """What in one callback event this SDK version would not know."""
    name = _type(event)
    fields = _fields(name)
    if fields is None or "callConnectionId" not in fields:
        return [f"{name}: no event model of that name in this SDK"]
    problems = [f"{name}: unknown field {key}" for key in event["data"] if key not in fields | DATA_EXTRAS]
    if event["data"].get("version") != api_version:
        problems.append(f"{name}: version {event['data'].get('version')} != {api_version}")
    for key, model in NESTED.items():
        value = event["data"].get(key)
        known = _fields(model) or set()
        for item in value if isinstance(value, list) else [value] if isinstance(value, dict) else []:
            problems += [f"{name}.{key}: unknown field {field}" for field in item if field not in known]
    return problems


def run(url: str, key: str) -> dict[str, Any]:
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    control = EmulatorControl(url)
    control.add_subscription(receiver.url + "/eventgrid", ["IncomingCall"])
    client = CallAutomationClient(url, AzureKeyCredential(key))
    api_version = DEFAULT_VERSION
    done: list[str] = []

    def step(name: str, action: Callable[[], Any]) -> Any:
        result = action()
        done.append(name)
        return result

    # Inbound: a person calls, the app answers, records, recognizes, plays, adds and cancels, holds, hangs up.
    placed = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
    offer = receiver.wait_for("IncomingCall")
    answered = step(
        "answer_call",
        lambda: client.answer_call(
            offer["data"]["incomingCallContext"], receiver.url + "/callbacks", cognitive_services_endpoint=COGNITIVE
        ),
    )
    call_id = answered.call_connection_id
    receiver.wait_for("CallConnected")
    connection = client.get_call_connection(call_id)
    step("get_call_properties", connection.get_call_properties)
    step("list_participants", lambda: list(connection.list_participants()))
    recording = step("start_recording", lambda: client.start_recording(ServerCallLocator(placed.server_call_id)))
    receiver.wait_for("RecordingStateChanged")
    step("pause_recording", lambda: client.pause_recording(recording.recording_id))
    step("resume_recording", lambda: client.resume_recording(recording.recording_id))
    choices = [RecognitionChoice(label="yes", phrases=["yes"], tone=DtmfTone.ONE)]
    step(
        "start_recognizing_media",
        lambda: connection.start_recognizing_media(
            RecognizeInputType.CHOICES, CUSTOMER, choices=choices, play_prompt=TextSource(text="Say yes or press 1.")
        ),
    )
    _press_when_listening(control, placed.server_call_id)
    receiver.wait_for("RecognizeCompleted")
    step("play_media", lambda: connection.play_media(TextSource(text="Thanks.")))
    receiver.wait_for("PlayCompleted")
    step("start_continuous_dtmf_recognition", lambda: connection.start_continuous_dtmf_recognition(CUSTOMER))
    control.press(placed.server_call_id, CUSTOMER.raw_id, "5")
    receiver.wait_for("ContinuousDtmfRecognitionToneReceived")
    step("stop_continuous_dtmf_recognition", lambda: connection.stop_continuous_dtmf_recognition(CUSTOMER))
    step("send_dtmf_tones", lambda: connection.send_dtmf_tones([DtmfTone.ONE], CUSTOMER))
    receiver.wait_for("SendDtmfTonesCompleted")
    control.set_behaviour(AGENT.raw_id, answer="never")
    invited = step("add_participant", lambda: connection.add_participant(AGENT))
    step("cancel_add_participant", lambda: connection.cancel_add_participant_operation(invited.invitation_id))
    receiver.wait_for("CancelAddParticipantSucceeded")
    if hasattr(connection, "hold"):
        step("hold", lambda: connection.hold(CUSTOMER))
        step("unhold", lambda: connection.unhold(CUSTOMER))
    step("stop_recording", lambda: client.stop_recording(recording.recording_id))
    step("hang_up", lambda: connection.hang_up(is_for_everyone=True))
    receiver.wait_for("CallDisconnected")

    # Outbound: a call nobody answers.
    control.set_behaviour("+15551239999", answer="decline")
    created = step(
        "create_call",
        lambda: client.create_call(
            PhoneNumberIdentifier("+15551239999"), receiver.url + "/callbacks", source_caller_id_number=CALLER_ID
        ),
    )
    # Before CreateCallFailed existed (2024-09-15) the leg ended with CallDisconnected.
    failed = "CreateCallFailed" if _fields("CreateCallFailed") else "CallDisconnected"
    receiver.wait_for(failed, lambda e: e["data"]["callConnectionId"] == created.call_connection_id)
    control.remove_subscription(receiver.url + "/eventgrid")
    receiver.shutdown()

    callbacks = [e for e in receiver.events if "type" in e]
    problems = [problem for event in callbacks for problem in check_callback(event, api_version)]
    return {
        "sdk": version("azure-communication-callautomation"),
        "apiVersion": api_version,
        "operations": done,
        "events": sorted({_type(e) for e in callbacks}),
        "problems": problems,
    }


def _press_when_listening(control: EmulatorControl, call_id: str) -> None:
    """Press 1 once the recognize listens (after its prompt)."""
    deadline = time.monotonic() + 15
    while not any("recognize listening" in e["summary"] for e in control.timeline(call_id)):
        if time.monotonic() > deadline:
            raise TimeoutError("the recognize never listened")
        time.sleep(0.02)
    control.press(call_id, CUSTOMER.raw_id, "1")


if __name__ == "__main__":
    outcome = run(sys.argv[1], sys.argv[2])
    print(json.dumps(outcome))
    sys.exit(1 if outcome["problems"] else 0)
