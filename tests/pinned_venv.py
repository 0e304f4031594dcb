"""Virtual environments for tools and SDK versions that cannot share the project venv, built once per pin set.

Each is keyed by a hash of its requirements file under the user cache directory, so reruns cost nothing and a
version bump rebuilds it. Building one needs the package registry (as `make bootstrap` does).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "acs-call-workflows"


def pinned_venv_python(name: str, requirements: Path, location: str | None = None) -> Path:
    """The interpreter of a venv with `requirements` installed, created on first use (at `location` if given)."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    venv = Path(location or _cache_root() / f"{name}-{digest}")
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = venv / ".installed"
    if marker.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs at once build it only once
        if not marker.exists():
            shutil.rmtree(venv, ignore_errors=True)  # a half-built venv from an interrupted run
            # Fixed commands on paths the callers compute; nothing comes from outside the repo.
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            subprocess.run([*pip, "-r", str(requirements)], check=True)
            marker.touch()
    return python
