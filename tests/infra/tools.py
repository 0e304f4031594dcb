"""checkov in its own virtual environment: its packaging<24 pin cannot share the project venv with pytest 9.

The venv is built once per pinned version (tests/pinned_venv.py); running checkov afterwards needs no network.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.pinned_venv import pinned_venv_python

REQUIREMENTS = Path(__file__).with_name("requirements-checkov.txt")

# Keep checkov offline: no guideline/mapping downloads from Prisma Cloud, no external module downloads.
OFFLINE_ENV = {"BC_SKIP_MAPPING": "TRUE"}
OFFLINE_FLAGS = ("--skip-download", "--download-external-modules", "false")


def checkov_python() -> Path:
    """The interpreter of a venv with the pinned checkov, creating it on first use."""
    return pinned_venv_python("checkov", REQUIREMENTS, os.environ.get("CHECKOV_VENV"))


def run_checkov(directory: Path, framework: str = "bicep") -> subprocess.CompletedProcess[str]:
    """checkov's scan of one directory (Bicep, or e.g. dockerfile), a JSON report on stdout."""
    args = [str(checkov_python()), "-m", "checkov.main", "-d", str(directory), "--framework", framework, "-o", "json"]
    env = {**os.environ, **OFFLINE_ENV}
    command = [*args, *OFFLINE_FLAGS]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
