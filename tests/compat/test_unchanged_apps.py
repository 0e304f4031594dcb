"""Unchanged third-party apps against the emulator, as real processes, configured the way the README tells a user.

The emulator runs as `python -m emulator --tls` and the apps get exactly the exports it prints; a simulated person
takes the call end to end.
"""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from emulator.config import DEFAULT_ACCESS_KEY
from emulator.control_client import EmulatorControl
from emulator.tls import ensure_certificate
from tests.compat.conftest import HERE, ROOT, sdk_python

ACS_NUMBER = "+18005550100"
CUSTOMER = "+15551230000"
AGENT = "+15557770001"
COGNITIVE = "https://contoso.cognitiveservices.azure.com/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], what: str, timeout: float = 30) -> object:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Process:
    """A child process whose combined output is kept in a file, stopped at the end."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        # Fixed interpreters and scripts of this repository.
        self.popen = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT, text=True)

    @property
    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
        self._out.close()


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


def base_env() -> dict[str, str]:
    """The machine's environment without its CA overrides: each process gets only what the README says to set."""
    drop = {"REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "PYTHONPATH"}
    return {key: value for key, value in os.environ.items() if key not in drop}


def start_emulator(
    tmp_path: Path, processes: list[Process], *extra: str, port: int | None = None
) -> tuple[dict[str, str], EmulatorControl]:
    """`python -m emulator --tls ...` and the `export NAME=VALUE` lines it prints, parsed as a shell would."""
    port = port or free_port()
    args = [sys.executable, "-m", "emulator", "--tls", "--port", str(port), "--cert-dir", str(tmp_path / "emulator")]
    emulator = Process([*args, "--time-scale", "0.05", *extra], base_env(), tmp_path / "emulator.log")
    processes.append(emulator)
    wait_until(lambda: "ACS_CONNECTION_STRING" in emulator.output, "the emulator's exports")
    exports = dict(re.findall(r'^export (\w+)="?([^"\s]+)"?', emulator.output, re.MULTILINE))
    control = EmulatorControl(f"https://127.0.0.1:{port}", ca_file=exports["SSL_CERT_FILE"])
    wait_until(lambda: listening(port), "the emulator")
    return exports, control


def start_app(
    script: str, sdk: str, env: dict[str, str], port: int, tmp_path: Path, processes: list[Process]
) -> Process:
    app = Process([str(sdk_python(sdk)), str(HERE / "apps" / script)], {**base_env(), **env}, tmp_path / "app.log")
    processes.append(app)
    wait_until(lambda: listening(port), f"{script} to listen")
    return app


def summaries(control: EmulatorControl, call_id: str) -> list[str]:
    return [entry["summary"] for entry in control.timeline(call_id)]


def wait_for_entry(control: EmulatorControl, call_id: str, text: str, timeout: float = 30) -> None:
    wait_until(lambda: any(text in s for s in summaries(control, call_id)), f"{text!r} on the timeline", timeout)


@pytest.mark.parametrize(
    ("answer", "expected"), [("press:1", "Thank you for confirming"), ("say:cancel", "has been cancelled")]
)
def test_flask_app_on_sdk_1_1_places_a_call_recognizes_plays_and_hangs_up(
    tmp_path: Path, processes: list[Process], answer: str, expected: str
) -> None:
    exports, control = start_emulator(tmp_path, processes)
    port = free_port()
    app_env = {
        "ACS_CONNECTION_STRING": exports["ACS_CONNECTION_STRING"],
        "REQUESTS_CA_BUNDLE": exports["REQUESTS_CA_BUNDLE"],
        "ACS_PHONE_NUMBER": ACS_NUMBER,
        "TARGET_PHONE_NUMBER": CUSTOMER,
        "CALLBACK_URI_HOST": f"http://127.0.0.1:{port}",
        "COGNITIVE_SERVICES_ENDPOINT": COGNITIVE,
        "PORT": str(port),
    }
    app = start_app("flask_outbound.py", "1.1.0", app_env, port, tmp_path, processes)

    call_id = requests.get(f"http://127.0.0.1:{port}/outboundCall", timeout=30).text
    wait_for_entry(control, call_id, f"recognize listening to 4:{CUSTOMER}")
    how, what = answer.split(":")
    (control.press if how == "press" else control.say)(call_id, CUSTOMER, what)

    wait_until(lambda: control.call(call_id)["state"] == "ended", "the app to hang up", 30)
    timeline = control.timeline(call_id)
    requests_made = [(e["summary"], e["detail"].get("status")) for e in timeline if e["kind"] == "request"]
    assert ("CallMedia_Recognize", 202) in requests_made
    assert ("CallConnection_TerminateCall", 204) in requests_made
    plays = [e for e in timeline if e["summary"] == "CallMedia_Play"]
    assert expected in plays[0]["detail"]["body"]["playSources"][0]["text"]["text"]
    assert all(e["detail"].get("data", {}).get("version", "2023-10-15") == "2023-10-15" for e in timeline)
    assert "Traceback" not in app.output, app.output


def test_quart_app_on_sdk_1_4_answers_transcribes_records_recognizes_adds_an_agent_and_ends(
    tmp_path: Path, processes: list[Process]
) -> None:
    app_cert, app_key = ensure_certificate(tmp_path / "app")
    port = free_port()
    emulator_cert, _ = ensure_certificate(tmp_path / "emulator")  # the emulator reuses it; the app trusts it
    app_env = {
        "COGNITIVE_SERVICE_ENDPOINT": COGNITIVE,
        "CALLBACK_URI_HOST": f"https://127.0.0.1:{port}",
        "AGENT_PHONE_NUMBER": AGENT,
        "ACS_PHONE_NUMBER": ACS_NUMBER,
        "SSL_CERT_FILE": str(emulator_cert.resolve()),
        "APP_CERT_FILE": str(app_cert),
        "APP_KEY_FILE": str(app_key),
        "PORT": str(port),
    }
    # The app starts first, as it would in production, so Event Grid's handshake finds it listening.
    emulator_port = free_port()
    app_env["ACS_CONNECTION_STRING"] = f"endpoint=https://127.0.0.1:{emulator_port}/;accesskey={DEFAULT_ACCESS_KEY}"
    app = start_app("quart_inbound.py", "1.4.0", app_env, port, tmp_path, processes)
    subscription = f"IncomingCall=https://127.0.0.1:{port}/api/incomingCall"
    exports, control = start_emulator(
        tmp_path, processes, "--trust-ca", str(app_cert), "--eventgrid-subscription", subscription, port=emulator_port
    )
    assert exports["ACS_CONNECTION_STRING"] == app_env["ACS_CONNECTION_STRING"]

    placed = control.place_call(CUSTOMER, ACS_NUMBER)
    call_id = placed.server_call_id
    wait_for_entry(control, call_id, f"recognize listening to 4:{CUSTOMER}")
    control.say(call_id, CUSTOMER, "I need help with my bill")
    wait_until(lambda: "Transcript: I need help with my bill" in app.output, "the transcript over wss")
    control.press(call_id, CUSTOMER, "1")
    wait_until(lambda: control.call(call_id)["state"] == "ended", "the app to add the agent and end the call", 30)

    requests_made = [e["summary"] for e in control.timeline(call_id) if e["kind"] == "request"]
    expected = {"AnswerCall", "CallRecording_StartRecording", "CallMedia_StartTranscription", "CallMedia_Recognize",
                "CallConnection_AddParticipant", "CallConnection_TerminateCall"}  # fmt: skip
    assert expected <= set(requests_made)
    assert any(f"4:{AGENT} joined" in s for s in summaries(control, call_id))
    wait_until(lambda: "Call ended" in app.output, "CallDisconnected at the app")
    assert "Traceback" not in app.output, app.output
