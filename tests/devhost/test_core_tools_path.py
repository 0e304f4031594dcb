"""The README's "Prefer Core Tools?" steps, run line by line as a new user would, end with a recording in the index.

The lines are read from the README, so the two stay in step. Core Tools cannot be installed here: `python -m devhost`
stands in for `func start`. The steps run in a scratch folder that links to the app's code (so the repository's own
local.settings.json is never touched), and every default port is moved to a free one, in the commands and in the
settings file the first step copies.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devhost.azurite import ACCOUNT_KEY, ACCOUNT_NAME, free_ports, wait_for_port
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller

ROOT = Path(__file__).resolve().parents[2]
LINKED = ("function_app.py", "host.json", "handlers", "shared", "node_modules", "package.json")
DEFAULT_PORTS = {"blob": 10000, "queue": 10001, "table": 10002, "emulator": 8765, "devhost": 7071, "receiver": 8766}
# The README's lines, in order: what each starts, and whether it keeps running (a service) or finishes.
STEPS = (
    ("cp local.settings.sample.json local.settings.json", False),
    ("npx azurite ", True),
    ("python -m emulator ", True),
    ("python -m devhost.env python -m receiver", True),
    ("python -m devhost.env python -m shared.seed", False),
    ("func start", True),
)


def readme_steps() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Prefer Core Tools?") :]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, "the README's Core Tools section has no ```sh block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_lists_the_steps_this_test_runs() -> None:
    lines = readme_steps()
    assert [next(s for s, _ in STEPS if line.startswith(s)) for line in lines] == [s for s, _ in STEPS]
    azurite = lines[1]
    assert "--skipApiVersionCheck" in azurite and "--location .azurite" in azurite
    for function in ("incoming_call", "recording_file_status"):
        assert f"functionName={function}" in lines[2]


class Services:
    """Processes the steps start, each in a session of its own, stopped (with everything they started) at the end."""

    def __init__(self, folder: Path, ports: dict[str, int]) -> None:
        self.folder = folder
        self.ports = ports
        self.running: list[tuple[subprocess.Popen, object]] = []
        bin_dir = str(Path(sys.executable).parent)
        self.environment = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(ROOT),
            "npm_config_offline": "true",  # npx must use the linked node_modules, never the registry
        }

    def run(self, line: str, *, service: bool) -> None:
        command = self.localize(line)
        if not service:
            done = subprocess.run(command, cwd=self.folder, env=self.environment, capture_output=True, text=True,
                                  timeout=120, check=False)  # fmt: skip
            assert done.returncode == 0, f"{line!r} failed:\n{done.stdout}\n{done.stderr}"
            if command[0] == "cp":
                self.move_settings_ports()
            return
        log = (self.folder / f"service-{len(self.running)}.log").open("w")
        process = subprocess.Popen(command, cwd=self.folder, env=self.environment, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        self.running.append((process, log))

    def localize(self, line: str) -> list[str]:
        """The line with each default port moved to this test's free one; `func start` becomes the dev host."""
        for name, port in DEFAULT_PORTS.items():
            line = line.replace(f"127.0.0.1:{port}", f"127.0.0.1:{self.ports[name]}")
        command = shlex.split(line)
        if line.startswith("func start"):
            return [sys.executable, "-m", "devhost", "--port", str(self.ports["devhost"])]
        if command[0] == "python":
            command[0] = sys.executable
        if command[:2] == ["npx", "azurite"]:
            command += ["--blobPort", str(self.ports["blob"]), "--queuePort", str(self.ports["queue"]),
                        "--tablePort", str(self.ports["table"])]  # fmt: skip
        elif command[1:3] == ["-m", "emulator"]:
            command += ["--port", str(self.ports["emulator"])]
        elif command[-1] == "receiver":
            command += ["--port", str(self.ports["receiver"])]
        return command

    def move_settings_ports(self) -> None:
        path = self.folder / "local.settings.json"
        settings = json.loads(path.read_text())
        values = settings["Values"]
        for key, value in values.items():
            for name, port in DEFAULT_PORTS.items():
                value = value.replace(f"127.0.0.1:{port}", f"127.0.0.1:{self.ports[name]}")
            if value == "UseDevelopmentStorage=true":
                value = self.azurite_connection_string()
            values[key] = value
        path.write_text(json.dumps(settings, indent=2))

    def azurite_connection_string(self) -> str:
        endpoints = ";".join(
            f"{kind.capitalize()}Endpoint=http://127.0.0.1:{self.ports[kind]}/{ACCOUNT_NAME}"
            for kind in ("blob", "queue", "table")
        )
        return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};{endpoints};"

    def stop(self) -> None:
        for process, log in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            log.close()

    def logs(self) -> str:
        return "\n".join(path.read_text()[-2000:] for path in sorted(self.folder.glob("service-*.log")))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "local.settings.sample.json").write_text((ROOT / "local.settings.sample.json").read_text())
    running = Services(tmp_path, dict(zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True)))
    yield running
    running.stop()


@pytest.mark.slow
def test_following_the_core_tools_steps_gets_a_recording_into_the_index(services: Services) -> None:
    ports = services.ports
    waits = {1: ("blob", "table"), 2: ("emulator",), 3: ("receiver",), 5: ("devhost",)}
    for index, (line, (_, service)) in enumerate(zip(readme_steps(), STEPS, strict=True)):
        services.run(line, service=service)
        for name in waits.get(index, ()):
            try:
                wait_for_port("127.0.0.1", ports[name], timeout=60)
            except TimeoutError:
                pytest.fail(f"{line!r} did not start {name}:\n{services.logs()}")
    emulator = EmulatorControl(f"http://127.0.0.1:{ports['emulator']}")
    caller = ScriptedCaller(emulator, "+14255550123", timeout=30).dial("+18005550100")
    caller.wait_for_prompt("press 1")
    caller.wait_for_event("RecordingStateChanged")  # the recording starts just after the greeting is sent
    caller.hang_up()
    view = caller.wait_until_ended()
    [connection_id] = [c["callConnectionId"] for c in view["connections"]]

    deadline = time.monotonic() + 30
    while True:
        listing = requests.get(
            f"http://127.0.0.1:{ports['devhost']}/api/calls/{connection_id}/recordings", timeout=10
        ).json()
        if listing.get("recordings"):
            break
        assert time.monotonic() < deadline, f"no recording indexed: {listing}\n{services.logs()}"
        time.sleep(0.2)
    [recording] = listing["recordings"]
    assert recording["chunks"][0]["contentLocation"].startswith(
        f"http://127.0.0.1:{ports['blob']}/{ACCOUNT_NAME}/recordings/"
    )
    wav = emulator.recording_content(recording["recordingId"])
    assert wav[:4] == b"RIFF"
    assert (services.folder / ".azurite").is_dir()  # Azurite's files stay out of the repository root
