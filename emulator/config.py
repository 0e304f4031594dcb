"""Emulator settings: command-line flags, each with an environment-variable equivalent."""

from __future__ import annotations

import argparse
import base64
import binascii
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from .faults import plan as fault_plan

API_VERSION = "2026-03-12"
# api-versions the live service advertises (contract §1.1); the emulator accepts these and answers in 2026-03-12 shape.
SUPPORTED_API_VERSIONS = (
    "2023-03-06", "2023-10-15", "2024-04-15", "2024-06-15-preview", "2024-09-01-preview", "2024-09-15",
    "2024-11-15-preview", "2025-03-30-preview", "2025-05-15", "2025-06-15", "2025-08-15-preview", "2026-03-12",
)  # fmt: skip
# A well-known development key, like Azurite's: the emulator is local-only and this is not a secret.
DEFAULT_ACCESS_KEY = base64.b64encode(b"acs-emulator-local-development-key").decode()
DEFAULT_RESOURCE_ID = "00000000-0000-4000-8000-00000000ac5e"
DEFAULT_PORT = 8765


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    access_key: str = DEFAULT_ACCESS_KEY
    resource_id: str = DEFAULT_RESOURCE_ID
    jwt_audience: str = DEFAULT_RESOURCE_ID
    jwt_issuer: str = "https://acscallautomation.communication.azure.com"
    eventgrid_subscriptions: list[str] = field(default_factory=list)
    time_scale: float = 1.0
    ring_timeout_seconds: float = 30.0
    tls: bool = False
    cert_dir: Path = Path(".local/emulator-tls")
    public_url: str | None = None
    recording_storage_key: str | None = None  # account key for bring-your-own-storage containers (not Azurite's)
    faults: fault_plan.FaultPlan = field(default_factory=fault_plan.FaultPlan)  # the plan at start and after reset
    trust_ca: list[Path] = field(default_factory=list)  # CA files trusted for HTTPS/WSS to apps, besides the system's

    @property
    def key_bytes(self) -> bytes:
        return base64.b64decode(self.access_key, validate=True)

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def base_url(self) -> str:
        return self.public_url or f"{self.scheme}://{self.host}:{self.port}"

    @property
    def connection_string(self) -> str:
        return f"endpoint={self.base_url}/;accesskey={self.access_key}"

    @property
    def resource_topic(self) -> str:
        return (
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
            "Microsoft.Communication/communicationServices/acs-emulator"
        )

    def validate(self) -> None:
        try:
            if not self.key_bytes:
                raise ValueError
        except (binascii.Error, ValueError):
            raise ValueError("--access-key must be non-empty base64") from None
        if self.time_scale <= 0:
            raise ValueError("--time-scale must be greater than 0")
        for path in self.trust_ca:
            if not Path(path).is_file():
                raise ValueError(f"--trust-ca {path}: no such file")


@overload
def _env(name: str) -> str | None: ...
@overload
def _env(name: str, default: str) -> str: ...
def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Local Azure Communication Services Call Automation emulator (api-version 2026-03-12).",
        epilog="Every flag has an environment variable equivalent, shown in brackets; flags win.",
    )
    parser.add_argument(
        "--host",
        default=_env("ACS_EMULATOR_HOST", "127.0.0.1"),
        help="interface to bind [ACS_EMULATOR_HOST] (default 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(_env("ACS_EMULATOR_PORT", str(DEFAULT_PORT))),
        help=f"port; 0 picks a free one [ACS_EMULATOR_PORT] (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--access-key",
        default=_env("ACS_EMULATOR_ACCESS_KEY", DEFAULT_ACCESS_KEY),
        help="base64 HMAC key the SDK signs with [ACS_EMULATOR_ACCESS_KEY] (default: a fixed dev key)",
    )
    parser.add_argument(
        "--eventgrid-subscription",
        action="append",
        dest="eventgrid_subscriptions",
        default=[s for s in (_env("ACS_EMULATOR_EVENTGRID_SUBSCRIPTIONS") or "").split() if s],
        help="Event Grid subscriber: URL, or Type1,Type2=URL to filter event types; repeatable "
        "[ACS_EMULATOR_EVENTGRID_SUBSCRIPTIONS, space-separated]",
    )
    parser.add_argument(
        "--jwt-audience",
        default=_env("ACS_EMULATOR_JWT_AUDIENCE", DEFAULT_RESOURCE_ID),
        help="aud claim of callback JWTs: the ACS resource immutable id [ACS_EMULATOR_JWT_AUDIENCE]",
    )
    parser.add_argument(
        "--jwt-issuer",
        default=_env("ACS_EMULATOR_JWT_ISSUER", "https://acscallautomation.communication.azure.com"),
        help="iss claim of callback JWTs [ACS_EMULATOR_JWT_ISSUER] (default: the real ACS issuer)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=float(_env("ACS_EMULATOR_TIME_SCALE", "1.0")),
        help="multiply emulated durations (timeouts, audio) by this; 0.01 makes 5 s take 50 ms "
        "[ACS_EMULATOR_TIME_SCALE] (default 1.0)",
    )
    parser.add_argument(
        "--ring-timeout",
        type=float,
        default=float(_env("ACS_EMULATOR_RING_TIMEOUT", "30")),
        help="seconds an unanswered incoming call rings [ACS_EMULATOR_RING_TIMEOUT] (default 30)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        default=_env("ACS_EMULATOR_TLS", "") in ("1", "true", "yes"),
        help="serve HTTPS with a generated local certificate, for clients built from a connection "
        "string (the SDK forces https there) [ACS_EMULATOR_TLS=1]",
    )
    parser.add_argument(
        "--cert-dir",
        type=Path,
        default=Path(_env("ACS_EMULATOR_CERT_DIR", ".local/emulator-tls")),
        help="where the TLS certificate is kept [ACS_EMULATOR_CERT_DIR]",
    )
    parser.add_argument(
        "--recording-storage-key",
        default=_env("ACS_EMULATOR_RECORDING_STORAGE_KEY"),
        help="storage account key for writing recordings to a bring-your-own-storage container; "
        "not needed for Azurite's devstoreaccount1 or container URLs with a SAS "
        "[ACS_EMULATOR_RECORDING_STORAGE_KEY]",
    )
    fault_plan.add_arguments(parser)
    # --- drop-in use by unchanged apps (issue 11) ---
    parser.add_argument(
        "--trust-ca",
        action="append",
        type=Path,
        dest="trust_ca",
        default=[Path(p) for p in (_env("ACS_EMULATOR_TRUST_CA") or "").split(os.pathsep) if p],
        metavar="FILE",
        help="PEM CA certificate to trust, besides the system's, when the emulator calls apps over HTTPS or WSS "
        "(callbacks, Event Grid, media and transcription WebSockets, audio fetches); repeatable "
        f"[ACS_EMULATOR_TRUST_CA, {os.pathsep}-separated]",
    )
    return parser


def config_from_args(argv: list[str] | None = None) -> EmulatorConfig:
    args = build_parser().parse_args(argv)
    config = EmulatorConfig(
        host=args.host, port=args.port, access_key=args.access_key, resource_id=args.jwt_audience,
        jwt_audience=args.jwt_audience, jwt_issuer=args.jwt_issuer,
        eventgrid_subscriptions=list(args.eventgrid_subscriptions), time_scale=args.time_scale,
        ring_timeout_seconds=args.ring_timeout, tls=args.tls, cert_dir=args.cert_dir,
        recording_storage_key=args.recording_storage_key, faults=fault_plan.plan_from_args(args),
        trust_ca=list(args.trust_ca),
    )  # fmt: skip
    config.validate()
    return config
