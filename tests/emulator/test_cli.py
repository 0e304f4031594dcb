"""`python -m emulator` subcommands against a running emulator, run as a user would, in a subprocess."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from azure.communication.callautomation import CallAutomationClient

from emulator.config import EmulatorConfig
from emulator.control_client import EmulatorControl
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder, EventGridRecorder

ROOT = Path(__file__).resolve().parents[2]
APP_NUMBER = "+18005550100"
CUSTOMER = "+15551230000"


def run_cli(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if url is not None:
        env["ACS_EMULATOR_URL"] = url
    # The arguments are this test's own, run with the interpreter running the tests.
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_help_lists_every_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    commands = ("call", "press", "say", "hangup", "answer", "decline", "people", "timeline", "reset", "calls",
                "recordings", "recording", "--port", "--time-scale")  # fmt: skip
    for command in commands:
        assert command in result.stdout


@pytest.mark.slow  # seven CLI processes: over 4 s
def test_call_press_say_hangup_and_timeline(
    emulator: EmulatorServer, client: CallAutomationClient, recorder: CallbackRecorder
) -> None:
    placed = run_cli(
        "call",
        CUSTOMER,
        APP_NUMBER,
        "--display-name",
        "Pat",
        "--sip-header",
        "X-MS-Custom-Id=7",
        "--no-wait",
        "--json",
        "--emulator-url",
        emulator.url,
    )
    assert placed.returncode == 0, placed.stderr
    call = json.loads(placed.stdout)
    call_id = client.answer_call(call["incomingCallContext"], recorder.url).call_connection_id
    recorder.wait_for("ParticipantsUpdated", call_connection_id=call_id)

    pressed = run_cli("press", call_id, CUSTOMER, "12#", url=emulator.url)
    assert pressed.stdout.strip() == f"{CUSTOMER} pressed 12# (call connected)"
    said = run_cli("say", call_id, CUSTOMER, "order", "status", "--json", url=emulator.url)
    assert json.loads(said.stdout) == {"callId": call_id, "who": CUSTOMER, "action": "say", "callState": "connected"}
    assert run_cli("hangup", call["serverCallId"], CUSTOMER, url=emulator.url).returncode == 0
    recorder.wait_for("CallDisconnected", call_connection_id=call_id)

    timeline = run_cli("timeline", call_id, url=emulator.url)
    assert "pressed one two pound" in timeline.stdout
    assert "said 'order status'" in timeline.stdout
    shown = json.loads(run_cli("calls", call_id, "--json", url=emulator.url).stdout)
    assert shown["state"] == "ended"
    assert shown["participants"][0]["customContext"] == {"sipHeaders": {"X-MS-Custom-Id": "7"}}
    described = run_cli("calls", call_id, url=emulator.url).stdout
    assert f"callConnectionId  {call_id} (disconnected)" in described


def test_call_waits_for_the_app_to_answer_and_prints_its_call_connection_id(
    emulator: EmulatorServer, client: CallAutomationClient, recorder: CallbackRecorder
) -> None:
    """A subscribed app answers; `call` names the callConnectionId the HTTP API wants, and the next step."""
    with EventGridRecorder() as eventgrid:
        emulator.control.add_subscription(eventgrid.url, event_types=["IncomingCall"])

        def answer_when_offered() -> None:
            offered = eventgrid.wait_for("IncomingCall")
            client.answer_call(offered["data"]["incomingCallContext"], recorder.url)

        answering = threading.Thread(target=answer_when_offered)
        answering.start()
        try:
            placed = run_cli("call", CUSTOMER, APP_NUMBER, url=emulator.url)
        finally:
            answering.join(10)
            emulator.control.remove_subscription(eventgrid.url)
    assert placed.returncode == 0, placed.stderr
    connection_id = emulator.control.calls()[0]["callConnectionIds"][0]
    assert f"callConnectionId  {connection_id}" in placed.stdout
    assert f"python -m emulator press {connection_id} {CUSTOMER} 1" in placed.stdout
    assert "incomingCallContext" not in placed.stdout


def test_call_without_subscribers_says_nobody_is_told(emulator: EmulatorServer) -> None:
    placed = run_cli("call", CUSTOMER, APP_NUMBER, "--json", url=emulator.url)
    assert placed.returncode == 0, placed.stderr
    assert json.loads(placed.stdout)["callConnectionId"] is None
    human = run_cli("call", CUSTOMER, APP_NUMBER, url=emulator.url)
    assert "nobody subscribes to IncomingCall" in human.stdout


@pytest.mark.slow  # four CLI processes: over 2 s
def test_people_and_reset(emulator: EmulatorServer) -> None:
    configured = run_cli("people", CUSTOMER, "--answer", "busy", "--answer-after-ms", "100", url=emulator.url)
    assert configured.stdout.strip() == f"4:{CUSTOMER} will busy after 100 ms"
    assert json.loads(run_cli("people", "--json", url=emulator.url).stdout)["people"][0]["answer"] == "busy"
    assert run_cli("reset", url=emulator.url).stdout.strip() == "emulator reset"
    assert EmulatorControl(emulator.url).people()["people"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("press", "no-such-call", CUSTOMER, "1"), "404"),
        (("people", CUSTOMER, "--answer", "maybe"), "invalid choice"),
        (("call", CUSTOMER, APP_NUMBER, "--sip-header", "no-equals-sign"), "NAME=VALUE"),
    ],
)
def test_bad_arguments_are_clear_errors(emulator: EmulatorServer, args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args, url=emulator.url)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_emulator_is_a_clear_error() -> None:
    result = run_cli("reset", url="http://127.0.0.1:9")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: cannot reach the emulator at http://127.0.0.1:9; is it running? `make run` starts the whole local "
        "stack, `python -m emulator` the emulator alone"
    )


def test_emulator_url_may_come_before_the_command(emulator: EmulatorServer) -> None:
    result = run_cli("--emulator-url", emulator.url, "calls", url="http://127.0.0.1:9")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no calls"


def test_an_http_url_reaches_a_tls_emulator_with_its_certificate(tmp_path: Path) -> None:
    config = EmulatorConfig(port=0, tls=True, cert_dir=tmp_path)
    with EmulatorServer(config) as tls_emulator:
        plain = tls_emulator.url.replace("https://", "http://")
        result = run_cli("--cert-dir", str(tmp_path), "--emulator-url", plain, "calls", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_tls_prints_what_an_unchanged_app_exports(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # A real `python -m emulator --tls`, stopped once it has printed its banner.
    with subprocess.Popen(
        [sys.executable, "-m", "emulator", "--tls", "--port", "0", "--cert-dir", str(tmp_path)],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    ) as served:  # fmt: skip
        assert served.stdout is not None
        lines = [served.stdout.readline() for _ in range(6)]
        served.terminate()
    cert = (tmp_path / "emulator-cert.pem").resolve()
    assert any(line.startswith(f"export REQUESTS_CA_BUNDLE={cert}") for line in lines)
    assert any(line.startswith(f"export SSL_CERT_FILE={cert}") for line in lines)
    assert any(line.startswith('export ACS_CONNECTION_STRING="endpoint=https://') for line in lines)
