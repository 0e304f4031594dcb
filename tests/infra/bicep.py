"""Helpers for the infra tests: parse Bicep offline with pycep (the parser checkov uses) and walk the result."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
MAIN = INFRA / "main.bicep"
FUNCTION = INFRA / "app" / "function.bicep"
RBAC = INFRA / "app" / "rbac.bicep"
FLOW_SETTINGS = INFRA / "app" / "flow-settings.json"
PARAMETERS = INFRA / "main.parameters.json"

BICEP_FILES = sorted(INFRA.rglob("*.bicep"))

# Names an app setting can have: UPPER_SNAKE app settings and the host's identity-based connection settings.
APP_SETTING_NAME = re.compile(r"^(?:[A-Z][A-Z0-9_]*|AzureWebJobs\w+)$")


SECTIONS = ("globals", "parameters", "variables", "resources", "modules", "outputs")


@cache
def _parser() -> BicepParser:
    return BicepParser()


@cache
def parse(path: Path) -> dict[str, Any]:
    """The pycep parse tree of one Bicep file, every section present (raises on a syntax error)."""
    tree = _parser().parse(file_path=path)
    return {section: tree.get(section) or {} for section in SECTIONS}


def walk(node: Any) -> Iterator[Any]:
    """Every dict, list and scalar in a parse tree, depth first."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def setting_keys(node: Any) -> set[str]:
    """Keys of object literals below node that are app setting names."""
    return {key for item in walk(node) if isinstance(item, dict) for key in item if APP_SETTING_NAME.match(key)}


def function_app_settings() -> set[str]:
    """Every app setting name the function app module sets: its own literals plus the flow settings file."""
    tree = parse(FUNCTION)
    return setting_keys(tree["variables"]) | set(flow_settings())


def flow_settings() -> dict[str, str]:
    return json.loads(FLOW_SETTINGS.read_text(encoding="utf-8"))


def modules(path: Path) -> dict[str, dict[str, Any]]:
    return parse(path)["modules"]


def module_params(path: Path, module: str) -> dict[str, Any]:
    config = modules(path)[module]["config"]
    return config.get("config", config)["params"]  # conditional modules nest their body
