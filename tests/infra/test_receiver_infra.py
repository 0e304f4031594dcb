"""The receiver's deployment, checked offline: the azd service in azure.yaml, the registry, the container app
(identity pulls, ingress, only settings the receiver reads, the token as a secret), the function app's
RECEIVER_WEBSOCKET_URL, the azd outputs and the generated RECEIVER_TOKEN."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from receiver.app import WEBSOCKET_PATH
from tests.infra import bicep

RECEIVER_BICEP = bicep.INFRA / "app" / "receiver.bicep"
FETCH_IMAGE = bicep.INFRA / "app" / "fetch-container-image.bicep"
AZURE_YAML = bicep.REPO / "azure.yaml"
RECEIVER_CONFIG = bicep.REPO / "receiver" / "config.py"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
TABLE_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"


def receiver_env_variables() -> set[str]:
    """Every environment variable receiver/config.py reads: the second argument of each `option(...)` call."""
    tree = ast.parse(RECEIVER_CONFIG.read_text(encoding="utf-8"))
    return {
        node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "option"
        and len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
    }


def container() -> dict[str, Any]:
    [app_container] = bicep.module_params(RECEIVER_BICEP, "receiver")["containers"]
    return app_container


def service(name: str) -> dict[str, str]:
    """The flat `key: value` lines of one azure.yaml service, nested keys joined with dots (docker.path)."""
    text = AZURE_YAML.read_text(encoding="utf-8")
    block = re.search(rf"^  {name}:\n((?:    .*\n|\s*#.*\n)+)", text, re.M)
    assert block, f"services.{name} missing from azure.yaml"
    values, parent = {}, ""
    for line in block.group(1).splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        key, _, value = line.strip().partition(":")
        if line.startswith("      "):
            values[f"{parent}.{key}"] = value.strip()
        else:
            parent = key
            if value.strip():
                values[key] = value.strip()
    return values


# ---- azure.yaml ----


def test_azure_yaml_deploys_the_receiver_as_a_container_app() -> None:
    receiver = service("receiver")
    assert receiver["project"] == "."
    assert receiver["language"] == "python"
    assert receiver["host"] == "containerapp"
    assert receiver["docker.path"] == "receiver/Dockerfile"
    assert receiver["docker.context"] == "."  # the image needs shared/ too
    assert (bicep.REPO / receiver["docker.path"]).is_file()


def test_the_flag_has_one_default_everywhere() -> None:
    """azure.yaml skips the service exactly when Bicep skips its resources."""
    parameters = json.loads(bicep.PARAMETERS.read_text(encoding="utf-8"))["parameters"]
    assert parameters["deployTranscriptReceiver"]["value"] == "${DEPLOY_TRANSCRIPT_RECEIVER=true}"
    assert service("receiver")["condition"] == "${DEPLOY_TRANSCRIPT_RECEIVER=true}"
    assert bicep.parse(bicep.MAIN)["parameters"]["deployTranscriptReceiver"]["default"] is True


# ---- registry and identity ----


def test_container_registry_is_basic_without_admin_user_and_pushable_by_azd() -> None:
    module = bicep.modules(bicep.MAIN)["containerRegistry"]
    assert module["detail"]["path"] == "avm/res/container-registry/registry"
    registry = bicep.module_params(bicep.MAIN, "containerRegistry")
    assert registry["acrSku"] == "Basic"
    assert registry["acrAdminUserEnabled"] is False
    assert registry["anonymousPullEnabled"] is False
    # azd exchanges an ARM token for a registry token; the module's default ('disabled') breaks `azd deploy`.
    assert registry["azureADAuthenticationAsArmPolicyStatus"] == "enabled"
    assert registry["roleAssignmentMode"] == "LegacyRegistryPermissions"  # AcrPull is honoured registry-wide


def test_receiver_has_its_own_identity_with_acr_pull_and_table_access() -> None:
    text = bicep.RBAC.read_text(encoding="utf-8")
    assert ACR_PULL in text
    assignments = {
        name: resource["config"]["config"]
        for name, resource in bicep.parse(bicep.RBAC)["resources"].items()
        if resource["type"] == "Microsoft.Authorization/roleAssignments"
        and "receiverPrincipalId" in json.dumps(resource)
    }
    variables = bicep.parse(bicep.RBAC)["variables"]
    roles = {
        variables[config["name"]["function"]["parameters"]["extra_string_2"]]["value"]: config["scope"]
        for config in assignments.values()
    }
    assert roles == {ACR_PULL: "containerRegistry", TABLE_CONTRIBUTOR: "storageAccount"}
    params = bicep.module_params(RECEIVER_BICEP, "receiver")
    assert params["managedIdentities"]["userAssignedResourceIds"] == ["identityId"]
    assert params["registries"] == [{"server": "registryLoginServer", "identity": "identityId"}]
    main = json.dumps(bicep.module_params(bicep.MAIN, "transcriptReceiver"))
    assert "receiverUserAssignedIdentity" in main and "apiUserAssignedIdentity" not in main


# ---- the container app ----


def test_container_app_is_tagged_for_azd_and_serves_wss_on_the_image_port() -> None:
    params = bicep.module_params(RECEIVER_BICEP, "receiver")
    assert params["tags"]["function"]["parameters"]["arg_2"] == {"'azd-service-name'": "serviceName"}
    assert bicep.parse(RECEIVER_BICEP)["parameters"]["serviceName"]["default"] == "receiver"
    assert params["ingressExternal"] is True
    assert params["ingressTransport"] == "http"  # WebSockets over HTTP/1.1
    assert params["ingressAllowInsecure"] is False
    assert params["ingressTargetPort"] == "targetPort"
    assert bicep.parse(RECEIVER_BICEP)["parameters"]["targetPort"]["default"] == 8080  # = the Dockerfile's CMD
    assert "targetPort" not in bicep.module_params(bicep.MAIN, "transcriptReceiver")  # nobody overrides it


def test_container_sets_only_settings_the_receiver_reads() -> None:
    env = {item["name"]: item for item in container()["env"]}
    unread = sorted(set(env) - receiver_env_variables())
    assert not unread, f"the receiver never reads {unread}"
    assert {"RECEIVER_TOKEN", "STORAGE_TABLE_ENDPOINT", "AZURE_CLIENT_ID", "TRANSCRIPTS_TABLE_NAME"} <= set(env)
    assert env["RECEIVER_TOKEN"] == {"name": "RECEIVER_TOKEN", "secretRef": "receiver-token"}  # never a plain value
    secrets = bicep.module_params(RECEIVER_BICEP, "receiver")["secrets"]
    assert [secret["name"] for secret in secrets] == ["receiver-token"]
    token = bicep.parse(RECEIVER_BICEP)["parameters"]["token"]
    assert {"type": "secure"} in token["decorators"]


def test_probes_call_the_health_endpoint() -> None:
    probes = {probe["type"]: probe for probe in container()["probes"]}
    assert set(probes) == {"Liveness", "Readiness"}
    assert all(probe["httpGet"] == {"path": "/health", "port": "targetPort"} for probe in probes.values())


def test_image_is_kept_across_provisions_with_a_placeholder_first() -> None:
    """azd's pattern: the placeholder until the first `azd deploy`; then the deployed image survives a provision."""
    image = json.dumps(container()["image"])
    assert "fetchLatestImage" in image and "placeholderImage" in image
    placeholder = bicep.parse(RECEIVER_BICEP)["variables"]["placeholderImage"]["value"]
    assert placeholder.startswith("mcr.microsoft.com/")
    fetch = bicep.module_params(RECEIVER_BICEP, "fetchLatestImage")
    assert fetch == {"exists": "exists", "name": "name"}
    parameters = json.loads(bicep.PARAMETERS.read_text(encoding="utf-8"))["parameters"]
    assert parameters["receiverExists"]["value"] == "${SERVICE_RECEIVER_RESOURCE_EXISTS=false}"
    assert bicep.module_params(bicep.MAIN, "transcriptReceiver")["exists"] == "receiverExists"
    assert bicep.parse(FETCH_IMAGE)["outputs"]["containers"]["type"] == "array"


def test_function_app_gets_the_websocket_url_of_the_receiver() -> None:
    output = bicep.parse(RECEIVER_BICEP)["outputs"]["websocketUrl"]["value"]
    assert output == "wss://${receiver.outputs.fqdn}${websocketPath}"
    assert bicep.parse(RECEIVER_BICEP)["parameters"]["websocketPath"]["default"] == WEBSOCKET_PATH
    api = json.dumps(bicep.module_params(bicep.MAIN, "api")["receiverWebsocketUrl"])
    assert "transcriptReceiver" in api and "websocketUrl" in api


# ---- outputs and the token ----


def test_outputs_for_azd_and_scripts() -> None:
    outputs = bicep.parse(bicep.MAIN)["outputs"]
    for name in (
        "AZURE_CONTAINER_REGISTRY_ENDPOINT",  # azd pushes images here
        "AZURE_CONTAINER_REGISTRY_NAME",
        "AZURE_CONTAINER_ENVIRONMENT_NAME",
        "SERVICE_RECEIVER_NAME",
        "SERVICE_RECEIVER_URI",
        "RECEIVER_WEBSOCKET_URL",  # the app setting's name
    ):
        assert name in outputs, name
    assert "loginServer" in json.dumps(outputs["AZURE_CONTAINER_REGISTRY_ENDPOINT"])


def test_receiver_token_is_a_secret_azd_generates_unless_set() -> None:
    param = bicep.parse(bicep.MAIN)["parameters"]["receiverToken"]
    decorators = {decorator["type"]: decorator.get("argument") for decorator in param["decorators"]}
    assert "secure" in decorators
    assert param["default"] is None  # a default would stop azd from generating (and newGuid() would rotate it)
    azd = decorators["metadata"]["azd"]
    assert azd["type"] == "generate"
    assert azd["config"]["noSpecial"] is True and azd["config"]["length"] >= 32  # URL-safe, strong
    assert decorators["min_length"] >= 16
    parameters = json.loads(bicep.PARAMETERS.read_text(encoding="utf-8"))["parameters"]
    assert parameters["receiverToken"]["value"] == "${RECEIVER_TOKEN}"  # `azd env set RECEIVER_TOKEN` overrides
    outputs = json.dumps(bicep.parse(bicep.MAIN)["outputs"])
    assert "receiverToken" not in outputs, "never output the token"
