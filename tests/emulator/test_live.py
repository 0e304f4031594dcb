"""The web page's server side: the page and its assets, the live feed (server-sent events), a call's story,
redelivery, and people who ring until someone answers or declines for them."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from azure.communication.callautomation import CallAutomationClient, CommunicationUserIdentifier

from emulator.control_client import ControlApiError, EmulatorControl
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder, EventGridRecorder
from tests.emulator.conftest import MediaCall

CUSTOMER = "+15551230000"
APP_NUMBER = "+18005550100"
AGENT = "8:acs:00000000-0000-4000-8000-00000000ac5e_0000000a-0000-4000-8000-00000000a9e1"


class FeedReader:
    """Reads /emulator/live/events on a thread; `wait_for(kind, predicate)` returns the first matching message."""

    def __init__(self, base_url: str) -> None:
        self.messages: list[tuple[str, Any]] = []
        self._condition = threading.Condition()
        self._response = requests.get(f"{base_url}/emulator/live/events", stream=True, timeout=10)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        kind = None
        try:
            for line in self._response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    with self._condition:
                        self.messages.append((kind or "message", json.loads(line.removeprefix("data: "))))
                        self._condition.notify_all()
        except (requests.ConnectionError, AttributeError):
            return  # closed by the test

    def wait_for(self, kind: str, predicate: Callable[[Any], bool] = lambda _: True, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for seen, message in self.messages:
                    if seen == kind and predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no {kind} message within {timeout}s; got {[k for k, _ in self.messages]}")
                self._condition.wait(remaining)

    def close(self) -> None:
        self._response.close()


@pytest.fixture
def feed(emulator: EmulatorServer) -> Iterator[FeedReader]:
    reader = FeedReader(emulator.url)
    yield reader
    reader.close()


def answered_call(
    emulator: EmulatorServer, client: CallAutomationClient, recorder: CallbackRecorder, eventgrid: EventGridRecorder
) -> str:
    """A person calls APP_NUMBER; the test's app answers from the IncomingCall event. Returns the callConnectionId."""
    emulator.control.place_call(CUSTOMER, APP_NUMBER)
    offered = eventgrid.wait_for("IncomingCall")
    call_id = client.answer_call(offered["data"]["incomingCallContext"], recorder.url).call_connection_id
    recorder.wait_for("ParticipantsUpdated", call_connection_id=call_id)
    return call_id


def test_the_page_and_its_assets_are_served(emulator: EmulatorServer) -> None:
    page = requests.get(f"{emulator.url}/emulator/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'src="/emulator/web/app.js"' in page.text
    script = requests.get(f"{emulator.url}/emulator/web/app.js", timeout=10)
    assert script.status_code == 200 and "EventSource" in script.text
    assert requests.get(f"{emulator.url}/emulator/web/../config.py", timeout=10).status_code in (403, 404)


def test_the_feed_streams_each_entry_with_its_call_and_each_delivery(
    emulator: EmulatorServer,
    client: CallAutomationClient,
    recorder: CallbackRecorder,
    eventgrid: EventGridRecorder,
    feed: FeedReader,
) -> None:
    assert feed.wait_for("hello") == {"calls": []}
    call_id = answered_call(emulator, client, recorder, eventgrid)

    connected = feed.wait_for("entry", lambda m: m["entry"]["summary"] == "CallConnected")
    assert connected["call"]["callConnectionIds"] == [call_id]
    assert connected["entry"]["text"] == "CallConnected"
    assert "transcription" not in json.dumps(connected["call"])  # streaming URLs (with tokens) stay out
    event_id = connected["entry"]["detail"]["eventId"]
    delivery = feed.wait_for("delivery", lambda m: event_id in m["eventIds"])
    assert (delivery["ok"], delivery["status"], delivery["attempts"], delivery["kind"]) == (True, 200, 1, "callback")
    assert delivery["serverCallId"] == connected["call"]["serverCallId"]
    assert delivery["eventTypes"] == ["CallConnected"]


def test_a_calls_story_narrates_every_entry_and_redelivery_posts_it_again(
    emulator: EmulatorServer, client: CallAutomationClient, recorder: CallbackRecorder, eventgrid: EventGridRecorder
) -> None:
    call_id = answered_call(emulator, client, recorder, eventgrid)
    story = requests.get(f"{emulator.url}/emulator/live/calls/{call_id}", timeout=10).json()
    assert [e["index"] for e in story["entries"]] == list(range(len(story["entries"])))
    assert story["entries"][0]["text"] == f"4:{CUSTOMER} calls 4:{APP_NUMBER}"
    by_type = {tuple(d["eventTypes"]): d for d in story["deliveries"]}
    assert by_type[("IncomingCall",)]["kind"] == "eventgrid"

    again = emulator.control.redeliver(by_type[("CallConnected",)]["id"])
    assert again["ok"] and again["eventTypes"] == ["CallConnected"]
    assert len(recorder.matching("CallConnected", call_connection_id=call_id)) == 2
    emulator.control.redeliver(by_type[("IncomingCall",)]["id"])
    eventgrid.wait_for("IncomingCall", count=2)
    summaries = [entry["summary"] for entry in emulator.control.timeline(call_id)]
    assert "redelivered CallConnected: delivered" in summaries
    assert "redelivered IncomingCall: delivered" in summaries
    with pytest.raises(ControlApiError, match="404: No delivery '999'"):
        emulator.control.redeliver(999)


def test_a_manual_person_rings_until_answered_or_declined(media_call, control: EmulatorControl) -> None:
    call: MediaCall = media_call()
    control.set_behaviour(AGENT, answer="manual")
    with pytest.raises(ControlApiError, match="409"):
        control.answer(call.id, AGENT)  # not ringing yet
    # The longest invitation (180 s, 3.6 s at the tests' time scale) leaves time to see it ringing.
    call.connection.add_participant(CommunicationUserIdentifier(AGENT), operation_context="one", invitation_timeout=180)
    control.wait_for_call(call.id, lambda view: any(p["rawId"] == AGENT for p in view["participants"]))
    assert call.types("AddParticipantSucceeded", "AddParticipantFailed") == []  # it keeps ringing
    view = control.answer(call.id, AGENT)
    assert {p["rawId"]: p["state"] for p in view["participants"]}[AGENT] == "connected"
    assert call.wait("AddParticipantSucceeded")["data"]["operationContext"] == "one"

    other = media_call("+15551230001")
    other.connection.add_participant(
        CommunicationUserIdentifier(AGENT), operation_context="two", invitation_timeout=180
    )
    control.wait_for_call(other.id, lambda view: any(p["rawId"] == AGENT for p in view["participants"]))
    control.decline(other.id, AGENT)
    failed = other.wait("AddParticipantFailed")
    assert failed["data"]["resultInformation"]["subCode"] == 8538


def test_person_actions_name_an_unknown_action(emulator: EmulatorServer, media_call) -> None:
    call: MediaCall = media_call()
    url = f"{emulator.url}/emulator/calls/{call.id}/participants/{quote(call.person.raw_id)}/wave"
    answer = requests.post(url, json={}, timeout=10)
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == (
        "Unknown person action 'wave'; use dtmf, speech, hangup, answer or decline."
    )
