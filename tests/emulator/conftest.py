"""Fixtures for driving the emulator with the real SDK: a running emulator, clients, and a callback recorder."""

import io
import threading
import time
import uuid
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from azure.communication.callautomation import CallAutomationClient, CallConnectionClient, PhoneNumberIdentifier
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.storage.blob import BlobServiceClient

from emulator import audio
from emulator.clock import VirtualClock
from emulator.config import EmulatorConfig
from emulator.control_client import EmulatorControl
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder, EventGridRecorder
from tests.emulator.conformance import assert_callback_matches_sdk_model, assert_event_grid_event_shape
from tests.emulator.stream_support import WebSocketReceiver


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """One emulator for the session, on a VirtualClock: emulated time passes only when a test calls advance()."""
    with EmulatorServer(EmulatorConfig(port=0), clock=VirtualClock()) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_emulator(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "emulator" in request.fixturenames:
        server: EmulatorServer = request.getfixturevalue("emulator")
        server.run(server.backend.reset())


@pytest.fixture(scope="session")
def recorder() -> Iterator[CallbackRecorder]:
    with CallbackRecorder() as running:
        yield running


@pytest.fixture(autouse=True)
def _clear_recorder(request: pytest.FixtureRequest) -> None:
    if "recorder" in request.fixturenames:
        request.getfixturevalue("recorder").clear()


@pytest.fixture
def client(emulator: EmulatorServer) -> CallAutomationClient:
    return CallAutomationClient(emulator.url, AzureKeyCredential(emulator.config.access_key))


class AudioServer:
    """WAV files (good and bad) served over HTTP on 127.0.0.1 for play and recognize tests; `url(name)` finds one."""

    def __init__(self, directory: Path) -> None:
        handler = partial(_QuietFileHandler, directory=str(directory))
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="audio-server", daemon=True
        )

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{name}"

    def __enter__(self) -> "AudioServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A download cut short (the emulator dropped the play when its call ended) is expected, not a failure."""


class _QuietFileHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep test output free of one access-log line per download."""


def _stereo_wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(16000)
        writer.writeframes(bytes(int(seconds * 16000) * 4))
    return buffer.getvalue()


@pytest.fixture(scope="session")
def audio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AudioServer]:
    """hello.wav (1 s, playable), long.wav (60 s), and unplayable 8khz.wav, stereo.wav, not-audio.wav."""
    directory = tmp_path_factory.mktemp("audio")
    (directory / "hello.wav").write_bytes(audio.wav_bytes(audio.tone(440, 1.0)))
    (directory / "long.wav").write_bytes(audio.wav_bytes(audio.silence(60.0)))
    (directory / "8khz.wav").write_bytes(audio.wav_bytes(audio.silence(1.0)[:16000], sample_rate=8000))
    (directory / "stereo.wav").write_bytes(_stereo_wav(1.0))
    (directory / "not-audio.wav").write_bytes(b"this is not a WAV file")
    with AudioServer(directory) as server:
        yield server


class PersonActions:
    """People on a live call pressing keys, speaking, hanging up, through the emulator's control API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def press(self, call_id: str, who: str, keys: str) -> None:
        self._act(call_id, who, "dtmf", {"tones": keys})

    def say(self, call_id: str, who: str, text: str) -> None:
        self._act(call_id, who, "speech", {"text": text})

    def hang_up(self, call_id: str, who: str) -> None:
        self._act(call_id, who, "hangup", {})

    def _act(self, call_id: str, who: str, action: str, body: dict) -> None:
        url = f"{self.base_url}/emulator/calls/{quote(call_id, safe='')}/participants/{quote(who, safe='')}/{action}"
        response = requests.post(url, json=body, timeout=10)
        assert response.status_code == 200, response.text


@pytest.fixture
def person_actions(emulator: EmulatorServer) -> PersonActions:
    return PersonActions(emulator.url)


MEDIA_CALLER_ID = "+15550009999"
MEDIA_CUSTOMER = "+15551230000"
COGNITIVE_ENDPOINT = "https://example.cognitiveservices.azure.com/"


class MediaCall:
    """A connected call for media tests: the SDK's CallConnectionClient, the people on it, waits on its events.

    Every event a test looks at is checked against the SDK's generated model of its type.
    """

    def __init__(
        self,
        emulator: EmulatorServer,
        recorder: CallbackRecorder,
        actions: PersonActions,
        connection: CallConnectionClient,
        call_connection_id: str,
        people: list[PhoneNumberIdentifier],
    ) -> None:
        self.emulator = emulator
        self.recorder = recorder
        self.actions = actions
        self.connection = connection
        self.id = call_connection_id
        self.people = people

    @property
    def person(self) -> PhoneNumberIdentifier:
        return self.people[0]

    def wait(self, event_type: str, *, count: int = 1, timeout: float = 10.0, **data: object) -> dict:
        """The `count`-th event of that type on this call whose data has the given values."""
        event = self.recorder.wait_for(
            event_type,
            call_connection_id=self.id,
            count=count,
            timeout=timeout,
            predicate=lambda e: all(e["data"].get(k) == v for k, v in data.items()),
        )
        return _conforming(event)

    def events(self, *event_types: str) -> list[dict]:
        """This call's events so far (of the given types, if any), in arrival order."""
        events = self.recorder.matching(call_connection_id=self.id)
        return [_conforming(e) for e in events if not event_types or e["type"].rsplit(".", 1)[-1] in event_types]

    def types(self, *event_types: str) -> list[str]:
        return [e["type"].rsplit(".", 1)[-1] for e in self.events(*event_types)]

    def advance(self, emulated_seconds: float) -> None:
        """Emulated time passes (for every call); what it causes has been delivered when this returns."""
        self.emulator.advance(emulated_seconds)

    def press(self, keys: str, who: PhoneNumberIdentifier | None = None) -> None:
        self.actions.press(self.id, (who or self.person).raw_id, keys)

    def say(self, text: str, who: PhoneNumberIdentifier | None = None) -> None:
        self.actions.say(self.id, (who or self.person).raw_id, text)

    def hang_up_person(self, who: PhoneNumberIdentifier | None = None) -> None:
        self.actions.hang_up(self.id, (who or self.person).raw_id)

    def recognize_phase(self) -> str | None:
        """prompt / listening while a recognize runs on this call (None when none does)."""

        async def phase() -> str | None:
            state = self.emulator.backend.connections[self.id].extensions.get("media")
            running = [op for op in (state.operations() if state else []) if op.listening and op.task]
            return running[0].phase if running else None

        return self.emulator.run(phase())

    def wait_for_recognize_phase(self, phase: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.recognize_phase() != phase:
            assert time.monotonic() < deadline, f"recognize never reached {phase!r}"
            time.sleep(0.002)


def _conforming(event: dict) -> dict:
    assert_callback_matches_sdk_model({k: v for k, v in event.items() if k != "_path"})
    return event


@pytest.fixture
def media_call(
    emulator: EmulatorServer, client: CallAutomationClient, recorder: CallbackRecorder, person_actions: PersonActions
) -> Callable[..., MediaCall]:
    """start(*numbers, cognitive=True): a connected call from the app to those phone numbers (default one customer)."""

    def start(*numbers: str, cognitive: bool = True) -> MediaCall:
        people = [PhoneNumberIdentifier(number) for number in numbers or (MEDIA_CUSTOMER,)]
        created = client.create_call(
            people if len(people) > 1 else people[0],
            recorder.url,
            source_caller_id_number=PhoneNumberIdentifier(MEDIA_CALLER_ID),
            cognitive_services_endpoint=COGNITIVE_ENDPOINT if cognitive else None,
        )
        call_id = created.call_connection_id
        recorder.wait_for("CallConnected", call_connection_id=call_id)
        wanted = {p.raw_id for p in people}
        recorder.wait_for(
            "ParticipantsUpdated",
            call_connection_id=call_id,
            predicate=lambda e: wanted <= {p["identifier"]["rawId"] for p in e["data"]["participants"]},
        )
        return MediaCall(emulator, recorder, person_actions, client.get_call_connection(call_id), call_id, people)

    return start


# --- call control, participants, control API, Event Grid ---------------------------------------------------------


@pytest.fixture
def control(emulator: EmulatorServer) -> Iterator[EmulatorControl]:
    """The control API client (simulated people, placing calls, call views and timelines)."""
    running = EmulatorControl(emulator.url)
    yield running
    running.close()


@pytest.fixture
async def aio_client(emulator: EmulatorServer) -> AsyncIterator[AsyncCallAutomationClient]:
    async with AsyncCallAutomationClient(emulator.url, AzureKeyCredential(emulator.config.access_key)) as running:
        yield running


@pytest.fixture(scope="session")
def eventgrid_receiver() -> Iterator[EventGridRecorder]:
    with EventGridRecorder() as running:
        yield running


@pytest.fixture
def eventgrid(eventgrid_receiver: EventGridRecorder, control: EmulatorControl) -> Iterator[EventGridRecorder]:
    """An Event Grid subscriber for every event type, subscribed through the control API for one test."""
    eventgrid_receiver.clear()
    control.add_subscription(eventgrid_receiver.url)
    yield eventgrid_receiver
    control.remove_subscription(eventgrid_receiver.url)


@pytest.fixture
def conformant_events(recorder: CallbackRecorder, eventgrid_receiver: EventGridRecorder) -> Iterator[None]:
    """After the test, every callback and Event Grid event it received must match the real payload shapes."""
    yield
    for event in recorder.events:
        assert_callback_matches_sdk_model({k: v for k, v in event.items() if k != "_path"})
    for event in eventgrid_receiver.events:
        assert_event_grid_event_shape(event)


# --- recording, media streaming, transcription ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def websocket_server() -> Iterator[WebSocketReceiver]:
    with WebSocketReceiver() as running:
        yield running


@pytest.fixture
def websocket(websocket_server: WebSocketReceiver) -> WebSocketReceiver:
    """The app's streaming endpoint (transportUrl), emptied for this test."""
    websocket_server.clear()
    return websocket_server


@pytest.fixture
def streaming_call(
    emulator: EmulatorServer, client: CallAutomationClient, recorder: CallbackRecorder, person_actions: PersonActions
) -> Callable[..., MediaCall]:
    """start(media_streaming=..., transcription=...): a connected call created with those SDK options."""

    def start(**options: Any) -> MediaCall:
        person = PhoneNumberIdentifier(MEDIA_CUSTOMER)
        created = client.create_call(
            person,
            recorder.url,
            source_caller_id_number=PhoneNumberIdentifier(MEDIA_CALLER_ID),
            cognitive_services_endpoint=COGNITIVE_ENDPOINT,
            **options,
        )
        call_id = created.call_connection_id
        recorder.wait_for("CallConnected", call_connection_id=call_id)
        recorder.wait_for(
            "ParticipantsUpdated",
            call_connection_id=call_id,
            predicate=lambda e: person.raw_id in {p["identifier"]["rawId"] for p in e["data"]["participants"]},
        )
        return MediaCall(emulator, recorder, person_actions, client.get_call_connection(call_id), call_id, [person])

    return start


@pytest.fixture
def recording_container(storage_connection_string: str) -> Iterator[str]:
    """A fresh Blob container in Azurite for bring-your-own-storage recordings; yields its URL."""
    with BlobServiceClient.from_connection_string(storage_connection_string) as service:
        container = service.create_container(f"recordings-{uuid.uuid4().hex[:12]}")
        yield container.url
        container.delete_container()
