"""The Bicep templates, checked offline: they parse, follow the azd/AVM conventions, keep secrets out, pass checkov."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.infra import bicep
from tests.infra.tools import run_checkov

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9_]*$")
SUPPRESSION = re.compile(r"checkov:skip=(?P<ids>[A-Za-z0-9_,-]+)(?P<reason>:[^\n]*)?")


def _ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(bicep.REPO)) for path in paths]


@pytest.mark.parametrize("path", bicep.BICEP_FILES, ids=_ids(bicep.BICEP_FILES))
def test_parses(path: Path) -> None:
    """pycep (checkov's parser) reads every file; a file it cannot parse would be silently skipped by checkov."""
    tree = bicep.parse(path)
    assert tree["parameters"] or tree["resources"] or tree["modules"]


@pytest.mark.parametrize("path", bicep.BICEP_FILES, ids=_ids(bicep.BICEP_FILES))
def test_every_parameter_is_described(path: Path) -> None:
    undescribed = [
        name
        for name, param in bicep.parse(path)["parameters"].items()
        if not any(d["type"] == "description" and d["argument"] for d in param["decorators"])
    ]
    assert not undescribed, f"{path.name}: add @description to {undescribed}"


@pytest.mark.parametrize("path", bicep.BICEP_FILES, ids=_ids(bicep.BICEP_FILES))
def test_modules_are_pinned_avm_or_local(path: Path) -> None:
    for name, module in bicep.modules(path).items():
        detail = module["detail"]
        if module["type"] == "local":
            assert (path.parent / detail["path"]).is_file(), f"{path.name}: module {name} -> missing {detail['path']}"
            continue
        assert module["type"] == "bicep_registry_alias" and detail["public"], f"{name}: only br/public modules"
        assert detail["path"].startswith("avm/res/"), f"{name}: use an Azure Verified Module, not {detail['path']}"
        assert SEMVER.match(detail["tag"]), f"{name}: pin an exact version, not {detail['tag']!r}"


def test_main_is_subscription_scoped_with_token_and_azd_tag() -> None:
    text = bicep.MAIN.read_text(encoding="utf-8")
    assert "targetScope = 'subscription'" in text
    assert "toLower(uniqueString(subscription().id, environmentName, location))" in text
    assert "'azd-env-name': environmentName" in text
    assert "'azd-service-name'" in bicep.FUNCTION.read_text(encoding="utf-8")


def test_abbreviations_used_exist() -> None:
    abbreviations = json.loads((bicep.INFRA / "abbreviations.json").read_text(encoding="utf-8"))
    used = set(re.findall(r"abbrs\.(\w+)", bicep.MAIN.read_text(encoding="utf-8")))
    assert used <= abbreviations.keys(), f"missing from abbreviations.json: {sorted(used - abbreviations.keys())}"


def test_every_name_is_overridable() -> None:
    """Each derived name falls back to an optional parameter, as in the azd quickstarts."""
    tree = bicep.parse(bicep.MAIN)
    for key, value in tree["variables"]["names"]["value"].items():
        tested = [
            item["function"]["parameters"]["item_to_test"]
            for item in bicep.walk(value)
            if isinstance(item, dict) and item.get("function", {}).get("type") == "empty"
        ]
        assert len(tested) == 1, f"names.{key} must be `!empty(<param>) ? <param> : <default>`"
        assert tree["parameters"][tested[0]]["default"] == "", f"names.{key}: {tested[0]} must default to ''"


def test_outputs_for_azd() -> None:
    outputs = bicep.parse(bicep.MAIN)["outputs"]
    assert all(UPPER_SNAKE.match(name) for name in outputs), sorted(outputs)
    required = {
        "AZURE_RESOURCE_GROUP",
        "AZURE_FUNCTION_APP_NAME",
        "SERVICE_API_NAME",
        "ACS_ENDPOINT",
        "ACS_RESOURCE_NAME",
        "ACS_IMMUTABLE_RESOURCE_ID",
        "CALLBACK_BASE_URL",
        "CALLBACK_JWT_AUDIENCE",
        "EVENT_GRID_SYSTEM_TOPIC_NAME",
    }
    assert required <= outputs.keys(), sorted(required - outputs.keys())


def test_parameters_file_maps_azd_environment() -> None:
    parameters = json.loads(bicep.PARAMETERS.read_text(encoding="utf-8"))["parameters"]
    declared = bicep.parse(bicep.MAIN)["parameters"]
    assert parameters.keys() <= declared.keys(), sorted(parameters.keys() - declared.keys())
    assert parameters["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert parameters["location"]["value"] == "${AZURE_LOCATION}"
    assert parameters["principalId"]["value"] == "${AZURE_PRINCIPAL_ID}"


def test_identity_only_security_settings() -> None:
    storage = bicep.module_params(bicep.MAIN, "storage")
    assert storage["allowSharedKeyAccess"] is False
    assert storage["allowBlobPublicAccess"] is False
    assert storage["minimumTlsVersion"] == "TLS1_2"
    assert bicep.module_params(bicep.MAIN, "appInsights")["disableLocalAuth"] is True
    ai = bicep.module_params(bicep.MAIN, "aiServices")
    assert ai["kind"] == "AIServices" and ai["disableLocalAuth"] is True and ai["customSubDomainName"]
    acs = bicep.module_params(bicep.INFRA / "app" / "communication.bicep", "communicationService")
    assert acs["managedIdentities"]["systemAssigned"] is True
    site = bicep.module_params(bicep.FUNCTION, "functionApp")
    assert site["httpsOnly"] is True
    assert site["siteConfig"]["minTlsVersion"] == "1.2" and site["siteConfig"]["ftpsState"] == "Disabled"
    assert site["functionAppConfig"]["runtime"] == {"name": "python", "version": "pythonVersion"}
    assert bicep.parse(bicep.FUNCTION)["parameters"]["pythonVersion"]["default"] == "3.11"
    assert site["functionAppConfig"]["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"


def test_event_grid_system_topic_on_acs() -> None:
    topic = bicep.module_params(bicep.MAIN, "eventGridSystemTopic")
    assert topic["topicType"] == "Microsoft.Communication.CommunicationServices"
    assert topic["location"] == "global"


@pytest.mark.parametrize("path", bicep.BICEP_FILES, ids=_ids(bicep.BICEP_FILES))
def test_no_keys_or_connection_strings(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for forbidden in ("listKeys(", "AccountKey=", "primaryKey", "primaryConnectionString", "accessKey"):
        assert forbidden not in text, f"{path.name}: {forbidden} - use managed identities"


def _role_assignments(path: Path) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in bicep.parse(path)["resources"].items()
        if resource["type"] == "Microsoft.Authorization/roleAssignments"
    }


def test_role_assignments_live_in_rbac_bicep() -> None:
    elsewhere = [path.name for path in bicep.BICEP_FILES if path != bicep.RBAC and _role_assignments(path)]
    assert not elsewhere, f"move role assignments to infra/app/rbac.bicep: {elsewhere}"


def test_role_assignments_are_deterministic_and_documented() -> None:
    tree = bicep.parse(bicep.RBAC)
    text = bicep.RBAC.read_text(encoding="utf-8")
    assignments = _role_assignments(bicep.RBAC)
    assert len(assignments) >= 7
    for name, resource in assignments.items():
        config = resource["config"]
        config = config.get("config", config)  # conditional resources nest their body
        guid = config["name"]["function"]
        assert guid["type"] == "guid", f"{name}: name must be guid(scope.id, principal, role)"
        parts = guid["parameters"]
        scope = parts["base_string"]["operator"]["operands"]
        assert scope == {"operand_1": config["scope"], "operand_2": "id"}, (
            f"{name}: guid must start with its scope's id"
        )
        principal, role = parts["extra_string_1"], parts["extra_string_2"]
        assert config["properties"]["principalId"] == principal, f"{name}: guid must use the assigned principal"
        assert config["properties"]["principalType"], f"{name}: set principalType (avoids replication races)"
        role_id = tree["variables"][role]["value"]
        assert GUID.match(role_id), f"{name}: {role} must hold a role definition GUID"
        declaration = next(line for line in text.splitlines() if line.startswith(f"var {role} "))
        line_no = text.splitlines().index(declaration)
        previous = text.splitlines()[line_no - 1]
        assert "//" in declaration or previous.startswith("//"), f"{role}: comment the role's name"


def test_expected_roles_are_assigned() -> None:
    text = bicep.RBAC.read_text(encoding="utf-8")
    for role_id in (
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",  # Storage Blob Data Owner (function)
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88",  # Storage Queue Data Contributor (function)
        "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",  # Storage Table Data Contributor (function)
        "3913510d-42f4-4e42-8a64-420c390055eb",  # Monitoring Metrics Publisher (function)
        "09976791-48a7-449e-bb21-39d1a415f350",  # Communication and Email Service Owner (function on ACS)
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",  # Storage Blob Data Contributor (ACS on recordings)
        "a97b65f3-24c7-4388-baec-2e87135dc908",  # Cognitive Services User (ACS on AI services)
        "7f951dda-4ed3-4680-a7ca-43fe172d538d",  # AcrPull (receiver on the container registry)
    ):
        assert role_id in text


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """One checkov run over infra/ plus a known-bad canary that proves checkov really runs offline."""
    root = tmp_path_factory.mktemp("checkov")
    shutil.copytree(bicep.INFRA, root / "infra")
    (root / "canary").mkdir()
    (root / "canary" / "canary.bicep").write_text(
        """resource canary 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  // checkov:skip=CKV_AZURE_44: canary - proves inline suppressions with a reason are honoured
  name: 'stcanary'
  location: 'westeurope'
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: true
  }
}
""",
        encoding="utf-8",
    )
    result = run_checkov(root)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    return report if isinstance(report, list) else [report]


def _in_canary(check: dict[str, Any]) -> bool:
    return check["file_path"].lstrip("/").startswith("canary/")


def _checks(report: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [check for run in report for check in run.get("results", {}).get(kind, [])]


@pytest.mark.timeout(900)  # the first run builds checkov's venv (tests/infra/tools.py); later runs take ~10 s
@pytest.mark.slow  # checkov scans the templates: 10-45 s
def test_checkov_runs_offline(checkov_report: list[dict[str, Any]]) -> None:
    failed = {check["check_id"] for check in _checks(checkov_report, "failed_checks") if _in_canary(check)}
    skipped = {check["check_id"] for check in _checks(checkov_report, "skipped_checks")}
    assert failed, "checkov found nothing wrong with the canary: it is not really running"
    assert "CKV_AZURE_44" in skipped and "CKV_AZURE_44" not in failed
    assert all(run["summary"]["parsing_errors"] == 0 for run in checkov_report if "summary" in run)


@pytest.mark.timeout(900)
@pytest.mark.slow
def test_checkov_has_no_failed_checks(checkov_report: list[dict[str, Any]]) -> None:
    failed = [
        f"{check['check_id']} {check['file_path']}:{check['file_line_range']} {check['check_name']}"
        for check in _checks(checkov_report, "failed_checks")
        if not _in_canary(check)
    ]
    assert not failed, "fix, or suppress inline with `// checkov:skip=CKV_...: reason`:\n" + "\n".join(failed)


@pytest.mark.parametrize("path", bicep.BICEP_FILES, ids=_ids(bicep.BICEP_FILES))
def test_every_suppression_has_a_reason(path: Path) -> None:
    for match in SUPPRESSION.finditer(path.read_text(encoding="utf-8")):
        reason = (match.group("reason") or ":").lstrip(":").strip()
        assert len(reason) >= 10, f"{path.name}: give {match.group('ids')} a reason after the colon"
