"""The receiver's settings: command-line flags, each with an environment variable, and the storage it writes to."""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from receiver.hooks import AudioHook

DEFAULT_PORT = 8766


@dataclass(frozen=True, kw_only=True)
class ReceiverConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # Shared secret ACS must present as ?token=... (the app adds RECEIVER_TOKEN to the URL); None accepts anyone.
    token: str | None = None
    storage_connection_string: str | None = None
    storage_table_endpoint: str | None = None
    azure_client_id: str | None = None
    transcripts_table_name: str = "transcripts"
    # "package.module:function", an AudioHook called with every audio frame.
    audio_hook: str | None = None

    @classmethod
    def from_args(cls, argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> ReceiverConfig:
        env = os.environ if environ is None else environ
        parser = argparse.ArgumentParser(
            prog="python -m receiver",
            description="Receive ACS media streaming and transcription WebSockets; store transcripts in Table Storage.",
        )
        option = _Options(parser, env)
        option("--host", "RECEIVER_HOST", "127.0.0.1", "interface to listen on (0.0.0.0 inside a container)")
        option("--port", "RECEIVER_PORT", str(DEFAULT_PORT), "port to listen on", type_=int)
        option(
            "--token", "RECEIVER_TOKEN", None, "shared secret expected as ?token= (same as the app's RECEIVER_TOKEN)"
        )
        option("--storage-connection-string", "STORAGE_CONNECTION_STRING", None, "Table Storage connection string")
        option("--storage-table-endpoint", "STORAGE_TABLE_ENDPOINT", None, "table endpoint, with managed identity")
        option("--azure-client-id", "AZURE_CLIENT_ID", None, "user-assigned managed identity for the table endpoint")
        option("--transcripts-table", "TRANSCRIPTS_TABLE_NAME", "transcripts", "table of transcript lines")
        option("--audio-hook", "RECEIVER_AUDIO_HOOK", None, "package.module:function called with every audio frame")
        args = parser.parse_args(argv)
        if not args.storage_connection_string and not args.storage_table_endpoint:
            parser.error("set STORAGE_CONNECTION_STRING or STORAGE_TABLE_ENDPOINT (--storage-...)")
        return cls(
            host=args.host,
            port=args.port,
            token=args.token,
            storage_connection_string=args.storage_connection_string,
            storage_table_endpoint=args.storage_table_endpoint,
            azure_client_id=args.azure_client_id,
            transcripts_table_name=args.transcripts_table,
            audio_hook=args.audio_hook,
        )


class _Options:
    """Adds flags whose defaults come from the environment, so `--help` shows both spellings."""

    def __init__(self, parser: argparse.ArgumentParser, environ: Mapping[str, str]) -> None:
        self.parser = parser
        self.environ = environ

    def __call__(self, flag: str, variable: str, default: str | None, help_: str, type_: Any = str) -> None:
        value = self.environ.get(variable) or default
        self.parser.add_argument(flag, default=type_(value) if value is not None else None, type=type_,
                                 help=f"{help_} [{variable}]")  # fmt: skip


def load_hook(path: str) -> AudioHook:
    """Import "package.module:function"."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"audio hook {path!r} must look like package.module:function")
    return getattr(importlib.import_module(module_name), attribute)


def transcripts_table(config: ReceiverConfig) -> Any:
    """An aio TableClient for the transcripts table, by connection string or endpoint + managed identity."""
    from azure.data.tables.aio import TableClient

    table = config.transcripts_table_name
    if config.storage_connection_string:
        from shared.clients import AZURITE_TABLES

        connection_string = config.storage_connection_string
        if connection_string.replace(" ", "").lower() == "usedevelopmentstorage=true":
            connection_string = AZURITE_TABLES
        return TableClient.from_connection_string(connection_string, table_name=table)
    if not config.storage_table_endpoint:
        raise ValueError("set STORAGE_CONNECTION_STRING or STORAGE_TABLE_ENDPOINT")
    from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential

    identity = ManagedIdentityCredential(client_id=config.azure_client_id) if config.azure_client_id else None
    return TableClient(config.storage_table_endpoint, table, credential=identity or DefaultAzureCredential())
