"""One source of truth for settings: what shared/settings.py declares is listed in local.settings.sample.json, set
by the Bicep function app module (except a few local-only settings that must never reach Azure) and documented in
the settings tables generated from the declarations (README.md, docs/app-flows.md, docs/recording.md).

A new setting fails these tests until it is in every place; that is the point.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

from shared import settings_docs
from shared.settings import Settings, declarations, env_name
from tests.infra import bicep

SETTINGS_MODULE = bicep.REPO / "shared" / "settings.py"
SAMPLE = bicep.REPO / "local.settings.sample.json"

# Read by the Functions host, not by the app: in the sample for `func start`, not in shared/settings.py.
HOST_SETTINGS = {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", "AzureWebJobsFeatureFlags"}

# Set by Bicep for the platform (identity-based host storage, Entra-authenticated telemetry), not read by the app.
PLATFORM_SETTINGS = re.compile(r"^(AzureWebJobsStorage__\w+|APPLICATIONINSIGHTS_\w+)$")

# Local-only (declared so in shared/settings.py): keys and connection strings for the emulator, Azurite and a local
# TLS CA, and loopback media. In Azure the app authenticates with its managed identity, so these must NOT be set there.
LOCAL_ONLY = {env_name(item.name) for item, declared in declarations() if declared.local_only}

ENV_READ = re.compile(r"os\.environ|os\.getenv|getenv\(")


def code_settings() -> set[str]:
    """The env name of every setting declared in shared/settings.py."""
    return {env_name(item.name) for item, _ in declarations()}


def sample_settings() -> set[str]:
    values = json.loads(SAMPLE.read_text(encoding="utf-8"))["Values"]
    return set(values) - HOST_SETTINGS


def test_sample_flow_settings_and_tables_are_generated_from_the_declarations() -> None:
    """Run `python -m shared.settings_docs` after changing a declaration."""
    assert settings_docs.stale() == []


def test_every_setting_is_in_a_documented_table() -> None:
    tables = settings_docs.tables()
    for name in code_settings():
        assert f"`{name}`" in tables["README.md"], name
        rows = [table for document, table in tables.items() if document != "README.md" and f"| `{name}` |" in table]
        assert len(rows) == 1, name  # one full table row, in one document


def test_a_stale_table_is_noticed() -> None:
    table = settings_docs.tables()["docs/recording.md"]
    committed = (bicep.REPO / "docs" / "recording.md").read_text(encoding="utf-8")
    edited = settings_docs.replaced(committed, table.replace("`RECORDING_FORMAT`", "`RECORDING_FORMATS`"))
    assert edited != committed and settings_docs.replaced(edited, table) == committed


def test_settings_are_found() -> None:
    names = code_settings()
    assert {"ACS_ENDPOINT", "CALLBACK_BASE_URL", "STORAGE_TABLE_ENDPOINT"} <= names
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", name) for name in names), sorted(names)


def test_only_settings_module_reads_the_environment() -> None:
    """A setting read anywhere else would escape these checks (and would not be deployed)."""
    offenders = []
    deployed = [
        bicep.REPO / "function_app.py",
        *(bicep.REPO / "shared").glob("*.py"),
        *(bicep.REPO / "handlers").glob("*.py"),
    ]
    for path in deployed:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ENV_READ.search(line) and "Settings.from_env(os.environ)" not in line:
                offenders.append(f"{path.relative_to(bicep.REPO)}:{number}: {line.strip()}")
    assert not offenders, "read settings through shared/settings.py:\n" + "\n".join(offenders)


def test_sample_lists_exactly_the_code_settings() -> None:
    code, sample = code_settings(), sample_settings()
    assert not code - sample, f"add to local.settings.sample.json: {sorted(code - sample)}"
    assert not sample - code, f"not read by shared/settings.py, remove from the sample: {sorted(sample - code)}"


def test_bicep_sets_every_code_setting_except_local_only() -> None:
    missing = code_settings() - LOCAL_ONLY - bicep.function_app_settings()
    assert not missing, (
        f"set in infra/app/function.bicep (or infra/app/flow-settings.json), or declare it local_only=True: "
        f"{sorted(missing)}"
    )


def test_local_only_settings_never_reach_azure() -> None:
    deployed = bicep.function_app_settings() & LOCAL_ONLY
    assert not deployed, f"keys/connection strings must not be app settings in Azure: {sorted(deployed)}"
    assert {
        "ACS_ACCESS_KEY",
        "ACS_CONNECTION_STRING",
        "ACS_TLS_CA_BUNDLE",
        "STORAGE_CONNECTION_STRING",
        "MEDIA_URL_ALLOW_LOCAL",
    } == LOCAL_ONLY


def test_bicep_sets_nothing_the_code_does_not_read() -> None:
    app_level = {name for name in bicep.function_app_settings() if not PLATFORM_SETTINGS.match(name)}
    stale = app_level - code_settings()
    assert not stale, f"app settings nobody reads (typo, or a removed setting): {sorted(stale)}"


def test_every_settings_variable_reaches_the_app() -> None:
    """Each variable of function.bicep that holds settings is part of the appsettings union."""
    tree = bicep.parse(bicep.FUNCTION)
    holders = {name for name, variable in tree["variables"].items() if bicep.setting_keys(variable)}
    configs = bicep.module_params(bicep.FUNCTION, "functionApp")["configs"]
    appsettings = next(config for config in configs if config["name"] == "appsettings")
    merged = {item for item in bicep.walk(appsettings["properties"]) if isinstance(item, str)}
    assert holders | {"flowSettings"} <= merged, f"not merged into appsettings: {sorted(holders - merged)}"


def test_bicep_sets_from_the_infrastructure_exactly_the_settings_declared_so() -> None:
    """function.bicep sets what the infrastructure decides (endpoints, identities, names); flow-settings.json, generated
    from the declarations, holds every other Azure setting at its default."""
    explicit = bicep.setting_keys(bicep.parse(bicep.FUNCTION)["variables"])
    app_level = {name for name in explicit if not PLATFORM_SETTINGS.match(name)}
    declared = {env_name(item.name) for item, setting in declarations() if setting.from_infrastructure}
    assert app_level == declared, (
        f"set in function.bicep but not declared from_infrastructure: {sorted(app_level - declared)}; "
        f"declared from_infrastructure but not set there: {sorted(declared - app_level)}"
    )


def test_parameters_file_overrides_are_flow_settings_with_the_same_defaults() -> None:
    """main.parameters.json maps azd env vars of the same name; `${NAME=default}` must repeat the code default."""
    overrides = json.loads(bicep.PARAMETERS.read_text(encoding="utf-8"))["parameters"]["flowSettings"]["value"]
    flow = bicep.flow_settings()
    for name, value in overrides.items():
        assert name in flow, f"main.parameters.json: {name} is not a flow setting"
        match = re.fullmatch(r"\$\{(?P<var>\w+)(?:=(?P<default>[^}]*))?\}", value)
        assert match and match["var"] == name, f"main.parameters.json: {name} must be ${{{name}}} or ${{{name}=...}}"
        assert (match["default"] or "") == flow[name], f"main.parameters.json: {name} default differs from the code"


def test_callback_auth_is_on_with_acs_defaults() -> None:
    text = bicep.FUNCTION.read_text(encoding="utf-8")
    assert "CALLBACK_AUTH_ENABLED: 'true'" in text
    assert "CALLBACK_JWT_AUDIENCE: acsImmutableResourceId" in text
    settings_source = SETTINGS_MODULE.read_text(encoding="utf-8")
    for url in re.findall(r"'(https://acscallautomation[^']+)'", text):
        assert url in settings_source, f"{url} differs from shared/settings.py defaults"


def test_sample_path_is_the_one_the_devhost_loads() -> None:
    assert Path(SAMPLE).name == "local.settings.sample.json"


def test_tables_are_created_with_the_code_default_names() -> None:
    """Bicep creates every table the app uses, named as the code's defaults (and the sample) name them."""
    tree = bicep.parse(bicep.MAIN)
    table_names = tree["variables"]["tableNames"]["value"]
    created = bicep.module_params(bicep.MAIN, "storage")["tableServices"]["tables"]
    created_keys = {table["name"]["operator"]["operands"]["operand_2"] for table in created}
    assert created_keys == set(table_names), (
        f"create every table in tableNames: {sorted(set(table_names) - created_keys)}"
    )
    code_tables = {field.default for field in fields(Settings) if field.name.endswith("_table_name")}
    assert set(table_names.values()) == code_tables
    wired = {name for name in code_settings() if name.endswith("_TABLE_NAME")}
    assert wired <= bicep.function_app_settings()
