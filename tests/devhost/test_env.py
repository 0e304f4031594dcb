"""`python -m devhost.env COMMAND`: a command run with local.settings.json's Values, set variables winning."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT_TWO = "import os; print(os.environ['ONLY_IN_FILE'], os.environ['SET_IN_BOTH'])"


def run_env(*args: str, cwd: Path, **environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devhost.env", *args],
        cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **environment},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_command_gets_the_files_values_and_set_variables_win(tmp_path: Path) -> None:
    values = {"ONLY_IN_FILE": "from-file", "SET_IN_BOTH": "from-file"}
    (tmp_path / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    done = run_env(sys.executable, "-c", PRINT_TWO, cwd=tmp_path, SET_IN_BOTH="from-shell")
    assert (done.returncode, done.stdout.strip()) == (0, "from-file from-shell")


def test_a_missing_settings_file_or_command_is_a_clear_error(tmp_path: Path) -> None:
    missing = run_env("true", cwd=tmp_path)
    assert (missing.returncode, missing.stderr.strip()) == (
        2,
        "error: no local.settings.json; copy local.settings.sample.json to it first",
    )
    (tmp_path / "local.settings.json").write_text('{"Values": {}}')
    unknown = run_env("no-such-command-here", cwd=tmp_path)
    assert unknown.returncode == 127
    assert unknown.stderr.startswith("error: cannot run no-such-command-here: ")
    assert "Traceback" not in missing.stderr + unknown.stderr
