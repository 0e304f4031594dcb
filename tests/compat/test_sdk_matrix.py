"""The emulator's conformance scenario under each supported SDK version, each in its own venv (`make compat`)."""

import json
import os
import subprocess

import pytest

from emulator.server import EmulatorServer
from tests.compat.conftest import HERE, ROOT, SDK_VERSIONS, sdk_python

# What each SDK sends by default (its _api_versions.DEFAULT_VERSION), and so what the emulator must answer as.
API_VERSIONS = {"1.1.0": "2023-10-15", "1.4.0": "2025-05-15", "1.6.0": "2026-03-12"}


@pytest.mark.parametrize("sdk", SDK_VERSIONS)
def test_the_conformance_scenario_passes_with_the_sdk(matrix_emulator: EmulatorServer, sdk: str) -> None:
    python = sdk_python(sdk)
    # The scenario and interpreter are this repository's own; the emulator runs in this process.
    result = subprocess.run(
        [str(python), str(HERE / "sdk_conformance.py"), matrix_emulator.url, matrix_emulator.config.access_key],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=180,
        check=False,
    )  # fmt: skip
    assert result.stdout.strip(), result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert (outcome["sdk"], outcome["apiVersion"]) == (sdk, API_VERSIONS[sdk])
    assert outcome["problems"] == [], outcome
    assert result.returncode == 0, result.stderr[-3000:]
    assert {"start_recording", "start_recognizing_media", "answer_call", "create_call"} <= set(outcome["operations"])
    assert ("PlayStarted" in outcome["events"]) is (sdk != "1.1.0")
