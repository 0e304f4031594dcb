"""local.settings.json handling, host.json checks and the `python -m devhost` command line."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from devhost.azurite import REPO_ROOT, free_port
from devhost.server import DevHost, create_app
from devhost.settings import DevHostError
from tests.devhost.conftest import FIXTURE_APP


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    """The main fixture app copied to a fresh folder, so each test can give it its own local.settings.json."""
    target = tmp_path / "app"
    shutil.copytree(FIXTURE_APP, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def write_settings(app_dir: Path, document: object) -> Path:
    path = app_dir / "local.settings.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def cli_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(("DEVHOST_", "FIXTURE_"))}


async def test_values_reach_the_environment_before_import_without_overriding(
    app_copy: Path, monkeypatch: pytest.MonkeyPatch, client: aiohttp.ClientSession
) -> None:
    # delenv records the variables so monkeypatch removes what devhost sets once the test ends.
    monkeypatch.delenv("FIXTURE_FROM_SETTINGS", raising=False)
    monkeypatch.delenv("FIXTURE_NUMBER", raising=False)
    monkeypatch.setenv("FIXTURE_PRESET", "from-env")
    values = {"FIXTURE_FROM_SETTINGS": "from-file", "FIXTURE_PRESET": "from-file", "FIXTURE_NUMBER": 5}
    write_settings(app_copy, {"IsEncrypted": False, "Values": values})
    expected = {"import-time": "from-file", "FIXTURE_FROM_SETTINGS": "from-file", "FIXTURE_PRESET": "from-env"}
    expected["FIXTURE_NUMBER"] = "5"
    with DevHost(app_copy) as host:
        for name, value in expected.items():
            async with client.get(f"{host.url}/api/settings/{name}") as response:
                assert await response.text() == value, name


async def test_explicit_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIXTURE_FROM_SETTINGS", raising=False)
    settings = write_settings(tmp_path, {"Values": {"FIXTURE_FROM_SETTINGS": "explicit"}})
    create_app(FIXTURE_APP, settings)
    assert os.environ["FIXTURE_FROM_SETTINGS"] == "explicit"


def test_missing_settings_file_is_fine(app_copy: Path) -> None:
    app = create_app(app_copy)
    assert app is not None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"Values": {"A": "1",}}', "is not valid JSON: Expecting property name enclosed in double quotes at line 1"),
        ("[]", "must contain a JSON object, not list"),
        ({"Values": ["A"]}, '"Values" must be a JSON object, not list'),
        ({"Values": {"A": {"nested": 1}}}, '"Values"."A" must be a string, not dict'),
        ({"IsEncrypted": True, "Values": {}}, "is encrypted"),
        ({"Host": {"LocalHttpPort": "7071"}}, '"Host"."LocalHttpPort" must be a port number'),
    ],
)
def test_malformed_settings_are_a_clear_error(app_copy: Path, document: object, message: str) -> None:
    path = write_settings(app_copy, document)
    with pytest.raises(DevHostError) as raised:
        create_app(app_copy)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_app_dir_needs_host_json_and_a_function_app(tmp_path: Path) -> None:
    with pytest.raises(DevHostError, match=r"no host\.json"):
        create_app(tmp_path)
    (tmp_path / "host.json").write_text('{"version": "2.0"}', encoding="utf-8")
    with pytest.raises(DevHostError, match=r"no function_app\.py"):
        create_app(tmp_path)
    (tmp_path / "function_app.py").write_text("import azure.functions as func\n", encoding="utf-8")
    with pytest.raises(DevHostError, match="defines no FunctionApp"):
        create_app(tmp_path)
    (tmp_path / "function_app.py").write_text("raise ImportError('missing dependency')\n", encoding="utf-8")
    with pytest.raises(DevHostError, match="ImportError: missing dependency"):
        create_app(tmp_path)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "devhost", *args]
    options = {"cwd": REPO_ROOT, "env": cli_env(), "capture_output": True, "text": True, "timeout": 60}
    return subprocess.run(command, check=False, **options)


def test_cli_malformed_settings_exit_2_without_traceback(app_copy: Path) -> None:
    path = write_settings(app_copy, '{"Values": }')
    result = run_cli("--app-dir", str(app_copy), "--port", "0")
    assert result.returncode == 2
    assert f"{path} is not valid JSON: Expecting value at line 1 column 12" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_help_lists_options_and_environment() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for word in ("--app-dir", "--host", "--port", "--settings", "--no-invocation-log", "DEVHOST_HOST", "DEVHOST_PORT"):
        assert word in result.stdout


@pytest.mark.parametrize("invocation_log", [True, False])
async def test_cli_serves_on_local_http_port(
    app_copy: Path, client: aiohttp.ClientSession, invocation_log: bool
) -> None:
    port = free_port()
    write_settings(app_copy, {"Values": {"FIXTURE_FROM_SETTINGS": "cli"}, "Host": {"LocalHttpPort": port}})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devhost",
        "--app-dir",
        str(app_copy),
        *([] if invocation_log else ["--no-invocation-log"]),
        cwd=REPO_ROOT,
        env=cli_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        banner = []
        async with asyncio.timeout(30):
            while not banner or "listening on" not in banner[-1]:
                line = await process.stdout.readline()
                assert line, "devhost exited early:\n" + "".join(banner)
                banner.append(line.decode())
        output = "".join(banner)
        assert f"hello: [GET] http://127.0.0.1:{port}/api/hello/{{name}}" in output
        assert (
            f"on_event: eventGridTrigger http://127.0.0.1:{port}/runtime/webhooks/eventgrid?functionName=on_event"
            in (output)
        )
        async with client.get(f"http://127.0.0.1:{port}/api/settings/import-time") as response:
            assert await response.text() == "cli"
    finally:
        process.terminate()
        async with asyncio.timeout(30):
            rest = (await process.stdout.read()).decode()
            await process.wait()
    # Core Tools' pair of lines per invocation, unless the command line leaves them out.
    assert ("Executing 'Functions.setting'" in rest) is invocation_log
    assert ("Executed 'Functions.setting' (Succeeded" in rest) is invocation_log
