"""checkov in its own virtual environment: its packaging<24 pin cannot share the project venv with pytest 9.

The venv is built once per pinned version (keyed by a hash of requirements-checkov.txt) under the user cache
directory, so reruns cost nothing and a version bump rebuilds it. Building it needs the package registry (as
`make bootstrap` does); running checkov afterwards needs no network.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).with_name("requirements-checkov.txt")

# Keep checkov offline: no guideline/mapping downloads from Prisma Cloud, no external module downloads.
OFFLINE_ENV = {"BC_SKIP_MAPPING": "TRUE"}
OFFLINE_FLAGS = ("--skip-download", "--download-external-modules", "false")


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "acs-call-workflows"


def checkov_python() -> Path:
    """The interpreter of a venv with the pinned checkov, creating it on first use."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    venv = Path(os.environ.get("CHECKOV_VENV") or _cache_root() / f"checkov-{digest}")
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = venv / ".installed"
    if marker.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs at once build it only once
        if not marker.exists():
            shutil.rmtree(venv, ignore_errors=True)  # a half-built venv from an interrupted run
            # Fixed commands on paths this module computes; nothing comes from outside the repo.
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
            marker.touch()
    return python


def run_checkov(directory: Path, framework: str = "bicep") -> subprocess.CompletedProcess[str]:
    """checkov's scan of one directory (Bicep, or e.g. dockerfile), a JSON report on stdout."""
    args = [str(checkov_python()), "-m", "checkov.main", "-d", str(directory), "--framework", framework, "-o", "json"]
    env = {**os.environ, **OFFLINE_ENV}
    command = [*args, *OFFLINE_FLAGS]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
