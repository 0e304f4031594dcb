"""Cold import: `python -X importtime` in fresh interpreters, function_app against importing every SDK eagerly."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
MARKER = "@@bench-import-start"
# What the app would import up front if it did not defer its SDKs (design §6 "cold import").
EAGER_SDKS = (
    "azure.communication.callautomation",
    "azure.communication.callautomation.aio",
    "azure.data.tables.aio",
    "azure.storage.blob.aio",
    "azure.identity",
    "azure.identity.aio",
    "aiohttp",
    "jwt",
)
# What shared.clients imports the first time a function runs (building the context and the JWT verifier).
FIRST_INVOCATION = (
    "azure.communication.callautomation.aio",
    "azure.core.credentials",
    "azure.data.tables.aio",
    "shared.acs",
    "shared.auth",
)


@dataclass(frozen=True)
class Variant:
    """One import scenario: `preload` is imported before the clock starts, `modules` are measured."""

    name: str
    description: str
    modules: tuple[str, ...]
    preload: tuple[str, ...] = ()
    bytecode_cache: bool = True


VARIANTS = (
    Variant("function_app", "import function_app (what a cold worker pays)", ("function_app",)),
    Variant(
        "function_app_in_worker",
        "import function_app with azure.functions already loaded, as in the Python worker",
        ("function_app",),
        preload=("azure.functions",),
    ),
    Variant("eager_sdks", "import every SDK the app uses", EAGER_SDKS),
    Variant("eager_app", "import function_app plus every SDK up front", ("function_app", *EAGER_SDKS)),
    Variant(
        "first_invocation",
        "imports deferred to the first invocation (after function_app)",
        FIRST_INVOCATION,
        preload=("function_app",),
    ),
    Variant(
        "function_app_no_pyc",
        "import function_app compiling the app's own modules (no .pyc for them)",
        ("function_app",),
        bytecode_cache=False,
    ),
)
# Packages worth naming when they appear in an import tree: where a cold start's time goes.
NOTABLE = (
    "azure.functions",
    "werkzeug",
    "azure.core",
    "azure.data.tables",
    "azure.communication.callautomation",
    "azure.storage.blob",
    "azure.identity",
    "aiohttp",
    "jwt",
    "cryptography",
    "requests",
)
# Bytecode of the measured interpreters goes here, not into the repository's folders.
PYCACHE = Path(tempfile.gettempdir()) / "acs-bench-pycache"

# Runs in the child: preload, mark stderr, time the measured imports, report wall time and memory on stdout.
_CHILD = """
import json, resource, sys, time
for name in {preload!r}:
    __import__(name)
sys.stderr.write({marker!r} + "\\n")
sys.stderr.flush()
started = time.perf_counter()
for name in {modules!r}:
    __import__(name)
elapsed = time.perf_counter() - started
rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:"))
print(json.dumps({{"wall_ms": elapsed * 1000, "rss_kib": rss,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


@dataclass
class ImportCost:
    module: str
    self_ms: float
    cumulative_ms: float
    depth: int

    def to_dict(self) -> dict[str, Any]:
        return {"module": self.module, "self_ms": self.self_ms, "cumulative_ms": self.cumulative_ms}


@dataclass
class VariantResult:
    """Medians over runs of one Variant, with the import tree of the median run."""

    name: str
    description: str
    runs: int
    wall_ms: float
    importtime_ms: float
    rss_mib: float
    modules_imported: int
    top_self: list[ImportCost] = field(default_factory=list)
    top_subtrees: list[ImportCost] = field(default_factory=list)
    notable_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "runs": self.runs,
            "wall_ms": self.wall_ms,
            "importtime_ms": self.importtime_ms,
            "rss_mib": self.rss_mib,
            "modules_imported": self.modules_imported,
            "top_self": [cost.to_dict() for cost in self.top_self],
            "top_subtrees": [cost.to_dict() for cost in self.top_subtrees],
            "notable_ms": self.notable_ms,
        }


@dataclass
class ImportResult:
    variants: dict[str, VariantResult]
    python: str = sys.version.split()[0]

    @property
    def ratio(self) -> float:
        """function_app's cold import as a fraction of the eager app's."""
        return round(self.variants["function_app"].wall_ms / self.variants["eager_app"].wall_ms, 3)

    def to_dict(self) -> dict[str, Any]:
        return {
            "python": self.python,
            "function_app_vs_eager": self.ratio,
            "variants": {name: variant.to_dict() for name, variant in self.variants.items()},
        }


def parse_importtime(stderr: str) -> list[ImportCost]:
    """The `-X importtime` lines written after MARKER, in order (children before their parent)."""
    costs: list[ImportCost] = []
    started = False
    for line in stderr.splitlines():
        if line.strip() == MARKER:
            started = True
            continue
        if not started or not line.startswith("import time:") or "[us]" in line:
            continue
        parts = line[len("import time:") :].split("|")
        self_us, cumulative_us, name = parts[0], parts[1], parts[2]
        stripped = name.lstrip()
        costs.append(
            ImportCost(
                module=stripped.strip(),
                self_ms=round(int(self_us) / 1000, 2),
                cumulative_ms=round(int(cumulative_us) / 1000, 2),
                depth=(len(name) - len(stripped) - 1) // 2,
            )
        )
    return costs


def run_once(variant: Variant, *, timeout: float = 60.0) -> tuple[dict[str, Any], list[ImportCost]]:
    """One fresh interpreter: (wall/rss numbers, the import tree)."""
    code = _CHILD.format(preload=variant.preload, modules=variant.modules, marker=MARKER)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    if variant.bytecode_cache:
        # Every module (app and SDKs) reads and writes its .pyc under PYCACHE; a warm-up run fills it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:
        # Installed packages keep their __pycache__; the app's modules are compiled on every import.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-5:]
        raise RuntimeError(f"importing {', '.join(variant.modules)} failed: " + " | ".join(tail))
    numbers = json.loads(completed.stdout.strip().splitlines()[-1])
    return numbers, parse_importtime(completed.stderr)


def measure_variant(variant: Variant, runs: int, top: int = 5) -> VariantResult:
    run_once(variant)  # warm-up: fills the bytecode cache and the OS file cache; not counted
    samples = [run_once(variant) for _ in range(max(1, runs))]
    totals = [sum(cost.cumulative_ms for cost in tree if cost.depth == 0) for _, tree in samples]
    walls = [numbers["wall_ms"] for numbers, _ in samples]
    median_run = sorted(range(len(samples)), key=lambda index: walls[index])[len(samples) // 2]
    tree = samples[median_run][1]
    measured = set(variant.modules)
    subtrees = [cost for cost in tree if cost.depth == 1 or (cost.depth == 0 and cost.module not in measured)]
    return VariantResult(
        name=variant.name,
        description=variant.description,
        runs=len(samples),
        wall_ms=round(statistics.median(walls), 1),
        importtime_ms=round(statistics.median(totals), 1),
        rss_mib=round(statistics.median(numbers["rss_kib"] for numbers, _ in samples) / 1024, 1),
        modules_imported=len(tree),
        top_self=sorted(tree, key=lambda cost: cost.self_ms, reverse=True)[:top],
        top_subtrees=sorted(subtrees, key=lambda cost: cost.cumulative_ms, reverse=True)[:top],
        notable_ms=notable(tree),
    )


def notable(tree: list[ImportCost]) -> dict[str, float]:
    """Cumulative import time of each NOTABLE package that this tree imported (where it was first imported)."""
    found = {cost.module: cost.cumulative_ms for cost in tree if cost.module in NOTABLE}
    return {name: found[name] for name in NOTABLE if name in found}


def measure_imports(runs: int = 5, variants: tuple[Variant, ...] = VARIANTS) -> ImportResult:
    """Median cold-import cost of each variant over `runs` fresh interpreters."""
    return ImportResult(variants={variant.name: measure_variant(variant, runs) for variant in variants})
