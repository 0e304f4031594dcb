"""Read local.settings.json and host.json the way Azure Functions Core Tools does."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("devhost")

DEFAULT_ROUTE_PREFIX = "api"


class DevHostError(Exception):
    """A problem with the app's files that stops devhost from starting (reported without a traceback)."""


@dataclass
class LocalSettings:
    """The parts of local.settings.json that devhost uses."""

    path: Path
    found: bool
    values: dict[str, str] = field(default_factory=dict)
    local_http_port: int | None = None


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DevHostError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DevHostError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(document, dict):
        raise DevHostError(f"{path} must contain a JSON object, not {type(document).__name__}")
    return document


def _setting_text(path: Path, key: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise DevHostError(f'{path}: "Values"."{key}" must be a string, not {type(value).__name__}')


def read_local_settings(path: Path) -> LocalSettings:
    """Parse local.settings.json; a missing file gives empty settings, a malformed one raises DevHostError."""
    if not path.is_file():
        return LocalSettings(path=path, found=False)
    document = _read_json_object(path)
    if document.get("IsEncrypted") is True:
        raise DevHostError(f"{path} is encrypted; devhost cannot decrypt it (run `func settings decrypt` first)")
    values = document.get("Values") or {}
    if not isinstance(values, dict):
        raise DevHostError(f'{path}: "Values" must be a JSON object, not {type(values).__name__}')
    host = document.get("Host") or {}
    if not isinstance(host, dict):
        raise DevHostError(f'{path}: "Host" must be a JSON object, not {type(host).__name__}')
    port = host.get("LocalHttpPort")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise DevHostError(f'{path}: "Host"."LocalHttpPort" must be a port number, not {port!r}')
    return LocalSettings(
        path=path,
        found=True,
        values={key: _setting_text(path, key, value) for key, value in values.items()},
        local_http_port=port,
    )


def apply_local_settings(settings: LocalSettings) -> list[str]:
    """Copy Values into os.environ without overriding variables already set, as Core Tools does; return keys set."""
    if not settings.found:
        log.info("no %s; using the environment only", settings.path)
        return []
    applied = [key for key in settings.values if key not in os.environ]
    for key in applied:
        os.environ[key] = settings.values[key]
    skipped = len(settings.values) - len(applied)
    log.info("loaded %d setting(s) from %s (%d already set in the environment)", len(applied), settings.path, skipped)
    return applied


def read_route_prefix(app_dir: Path) -> str:
    """The HTTP route prefix from host.json (extensions.http.routePrefix, default "api"); host.json must exist."""
    path = app_dir / "host.json"
    if not path.is_file():
        raise DevHostError(f"no host.json in {app_dir}: not a Functions project root")
    extensions = _read_json_object(path).get("extensions")
    http = extensions.get("http") if isinstance(extensions, dict) else None
    prefix = http.get("routePrefix", DEFAULT_ROUTE_PREFIX) if isinstance(http, dict) else DEFAULT_ROUTE_PREFIX
    if not isinstance(prefix, str):
        raise DevHostError(f'{path}: "extensions"."http"."routePrefix" must be a string')
    return prefix.strip("/")
