"""The emulator as a tool for other projects: `pip install ./emulator` gives `acs-emulator` and a pytest plugin that
runs the emulator in-process. Installed into a scratch folder and used from outside this repository."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A test another project would write: the plugin's fixtures, the real SDK answering the call a person places.
OTHER_PROJECTS_TEST = """
import os

import emulator
from azure.communication.callautomation import CallAutomationClient
from azure.core.credentials import AzureKeyCredential


def test_answer_a_call_a_person_places(acs_emulator, acs_control):
    assert emulator.__file__.startswith(os.environ["INSTALLED_AT"])
    placed = acs_control.place_call("+15551230000", "+18005550100")
    client = CallAutomationClient(acs_emulator.url, AzureKeyCredential(acs_emulator.config.access_key))
    answered = client.answer_call(placed.incoming_call_context, "http://127.0.0.1:9/callbacks")
    view = acs_control.call(answered.call_connection_id)
    assert view["state"] == "connected"
    acs_control.press(answered.call_connection_id, "+15551230000", "1")
    assert "pressed one" in acs_control.timeline(placed.server_call_id)[-1]["summary"]


def test_every_test_starts_from_a_reset_emulator(acs_control):
    assert acs_control.calls() == []
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install ./emulator` (a copy, so the build leaves nothing in the repository) into a folder of its own."""
    scratch = tmp_path_factory.mktemp("package")
    source = scratch / "source" / "emulator"
    shutil.copytree(ROOT / "emulator", source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = scratch / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return target


def outside_the_repository(installed: Path) -> dict[str, str]:
    """An environment whose only emulator is the installed one (the repository is not on the path)."""
    return {**os.environ, "PYTHONPATH": str(installed), "INSTALLED_AT": str(installed)}


def test_the_package_has_the_command_the_web_page_and_the_plugin(installed: Path, tmp_path: Path) -> None:
    assert {"index.html", "app.js", "style.css"} <= {p.name for p in (installed / "emulator" / "web").iterdir()}
    entry_points = (next(installed.glob("acs_emulator-*.dist-info")) / "entry_points.txt").read_text()
    assert "acs-emulator = emulator.cli:main" in entry_points
    assert "acs_emulator = emulator.pytest_plugin" in entry_points
    command = subprocess.run(
        [str(installed / "bin" / "acs-emulator"), "--help"],
        cwd=tmp_path, env=outside_the_repository(installed), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert command.returncode == 0, command.stderr
    assert command.stdout.startswith("usage: ")
    assert "--time-scale" in command.stdout


def test_another_projects_tests_use_the_plugins_fixtures(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "test_calls.py").write_text(textwrap.dedent(OTHER_PROJECTS_TEST))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_calls.py"],
        cwd=tmp_path, env=outside_the_repository(installed), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 passed" in run.stdout
