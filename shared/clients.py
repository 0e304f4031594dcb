"""Process-wide clients, created once and lazily: ACS, Table Storage, the callback verifier, the handler context.

Heavy SDKs are imported here, inside the factories, so importing function_app stays cheap; azure-identity
is imported only when a managed identity is configured.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from shared.context import Context
from shared.settings import Settings

if TYPE_CHECKING:
    from azure.communication.callautomation.aio import CallAutomationClient
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.data.tables.aio import TableServiceClient

logger = logging.getLogger(__name__)


class Verifier(Protocol):
    """Checks a callback's Authorization header against its body (shared.auth.CallbackVerifier)."""

    async def verify(self, authorization: str | None, body: bytes = b"") -> Mapping[str, Any]: ...


class Closable(Protocol):
    async def close(self) -> None: ...


_context: Context | None = None
_verifier: Verifier | None = None
_closables: list[Closable] = []
_lock = asyncio.Lock()


def load_settings() -> Settings:
    """Settings from this process's environment (the only place the app reads it)."""
    return Settings.from_env(os.environ)


def credential(settings: Settings) -> AsyncTokenCredential:
    """A managed-identity credential (user-assigned when AZURE_CLIENT_ID is set)."""
    from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential

    if settings.azure_client_id:
        return ManagedIdentityCredential(client_id=settings.azure_client_id)
    return DefaultAzureCredential()


def call_automation_client(settings: Settings) -> CallAutomationClient:
    """An aio CallAutomationClient for the configured endpoint and authentication."""
    from azure.communication.callautomation.aio import CallAutomationClient
    from azure.core.credentials import AzureKeyCredential

    from shared.transport import client_options

    endpoint = settings.acs_endpoint or _connection_string_endpoint(settings.acs_connection_string or "")
    options = client_options(
        endpoint, use_env_proxies=settings.http_use_env_settings, ca_bundle=settings.acs_tls_ca_bundle
    )
    if settings.acs_connection_string:
        # Note: from_connection_string forces https (contract §0.1); use ACS_ENDPOINT + ACS_ACCESS_KEY for http.
        return CallAutomationClient.from_connection_string(settings.acs_connection_string, **options)
    if settings.acs_access_key:
        return CallAutomationClient(endpoint, AzureKeyCredential(settings.acs_access_key), **options)
    return CallAutomationClient(endpoint, credential(settings), **options)


# Azurite's documented defaults; azure-data-tables does not understand the "UseDevelopmentStorage=true" shorthand.
AZURITE_TABLES = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
)


def table_service_client(settings: Settings) -> TableServiceClient:
    """An aio TableServiceClient for the configured storage account."""
    from azure.data.tables.aio import TableServiceClient

    from shared.transport import client_options

    if settings.storage_auth == "connection_string":
        connection_string = storage_connection_string(settings)
        endpoint = _connection_string_value(connection_string, "TableEndpoint") or (
            f"https://{_connection_string_value(connection_string, 'AccountName')}.table."
            f"{_connection_string_value(connection_string, 'EndpointSuffix') or 'core.windows.net'}"
        )
        options = client_options(endpoint, use_env_proxies=settings.http_use_env_settings)
        return TableServiceClient.from_connection_string(connection_string, **options)
    endpoint = settings.storage_table_endpoint or ""
    options = client_options(endpoint, use_env_proxies=settings.http_use_env_settings)
    return TableServiceClient(endpoint=endpoint, credential=credential(settings), **options)


def _connection_string_value(connection_string: str, name: str) -> str | None:
    for part in connection_string.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def _connection_string_endpoint(connection_string: str) -> str:
    return _connection_string_value(connection_string, "endpoint") or ""


def storage_connection_string(settings: Settings) -> str:
    """STORAGE_CONNECTION_STRING, with the "UseDevelopmentStorage=true" shorthand spelled out."""
    connection_string = settings.storage_connection_string or ""
    if connection_string.replace(" ", "").lower() == "usedevelopmentstorage=true":
        return AZURITE_TABLES
    return connection_string


async def ensure_recording_container(settings: Settings, container_url: str) -> None:
    """Create RECORDING_CONTAINER_URL's container if it is missing, with the app's storage credentials."""
    from shared.recording_container import ensure_container, shared_key

    if settings.storage_auth == "connection_string":
        await ensure_container(container_url, shared_key(storage_connection_string(settings)))
        return
    identity = credential(settings)
    _closables.append(identity)
    await ensure_container(container_url, identity)


async def ensure_tables(service: TableServiceClient, settings: Settings) -> None:
    """Create the app's tables if they do not exist yet (idempotent)."""
    names = (
        settings.state_table_name,
        settings.routing_table_name,
        settings.orders_table_name,
        settings.reminders_table_name,
        settings.pairings_table_name,
        settings.recordings_table_name,
        settings.transcripts_table_name,
    )
    for name in names:
        await service.create_table_if_not_exists(name)


def build_context(settings: Settings, *, call_automation: CallAutomationClient, tables: TableServiceClient) -> Context:
    """A handler context over the given ACS client and TableServiceClient."""
    from shared.acs import CallAutomation
    from shared.lookup import TableLookup
    from shared.pairings import TablePairings
    from shared.recordings import TableRecordingIndex
    from shared.state import TableStateStore
    from shared.state_cache import CachedStateStore
    from shared.transcripts import TableTranscriptStore

    return Context(
        settings=settings,
        state=CachedStateStore(TableStateStore(tables.get_table_client(settings.state_table_name))),
        acs=CallAutomation(call_automation),
        routing_rules=TableLookup(tables.get_table_client(settings.routing_table_name), row_key="rule"),
        orders=TableLookup(tables.get_table_client(settings.orders_table_name), row_key="order"),
        reminders=TableLookup(tables.get_table_client(settings.reminders_table_name), row_key="reminder"),
        pairings=TablePairings(tables.get_table_client(settings.pairings_table_name)),
        recordings=TableRecordingIndex(tables.get_table_client(settings.recordings_table_name)),
        transcripts=TableTranscriptStore(tables.get_table_client(settings.transcripts_table_name)),
    )


async def context() -> Context:
    """The process-wide handler context, built on first use."""
    global _context
    if _context is None:
        async with _lock:
            if _context is None:
                settings = load_settings()
                tables = table_service_client(settings)
                await ensure_tables(tables, settings)
                if settings.recording_container_url:
                    await ensure_recording_container(settings, settings.recording_container_url)
                call_automation = call_automation_client(settings)
                _closables.extend((tables, call_automation))
                _context = build_context(settings, call_automation=call_automation, tables=tables)
                logger.info("Clients ready (ACS auth: %s, storage auth: %s)", settings.acs_auth, settings.storage_auth)
    return _context


async def verify_callback(authorization: str | None, body: bytes = b"") -> None:
    """Check a callback's bearer token (and that it authorises no other body) unless CALLBACK_AUTH_ENABLED is false."""
    global _verifier
    settings = (await context()).settings
    if not settings.callback_auth_enabled:
        return
    if _verifier is None:
        from shared.auth import CallbackVerifier

        _verifier = CallbackVerifier(
            audience=settings.callback_jwt_audience or "",
            issuer=settings.callback_jwt_issuer,
            openid_config_url=settings.callback_openid_config_url,
            ca_bundle=settings.acs_tls_ca_bundle,
            max_lifetime_seconds=settings.callback_jwt_max_lifetime_seconds,
        )
    await _verifier.verify(authorization, body)


async def close() -> None:
    """Close the clients this module created and forget the context (tests, orderly shutdown)."""
    while _closables:
        await _closables.pop().close()
    use(None)


def use(context_: Context | None, verifier: Verifier | None = None) -> None:
    """Install a ready-made context (and verifier) for this process, e.g. in tests; None forgets them."""
    global _context, _verifier
    _context, _verifier = context_, verifier
