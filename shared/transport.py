"""HTTP under the SDK clients: a kept-alive connection pool per client, and proxies looked up once at start-up.

azure-core's aiohttp transport, left to itself, asks aiohttp to read proxy variables and .netrc on every request
(two default-executor hops each) and keeps idle connections for 15 s, longer than Azurite (Node's 5 s) keeps
them: a request sent on a connection the server is closing fails with "Server disconnected", which aiohttp retries
for idempotent methods but not for a POST such as a `$batch`. Here the pool forgets idle connections before the
server does, and the proxy for each client's one endpoint is decided when the client is built (HTTP(S)_PROXY,
NO_PROXY), not per request.
"""

from __future__ import annotations

import contextlib
import ipaddress
import urllib.request
from typing import Any
from urllib.parse import urlparse

import aiohttp

# The package exports it lazily (aiohttp is optional), which hides its type; the module itself is typed.
from azure.core.pipeline.transport._aiohttp import AioHttpTransport

# How long an idle connection is kept: below the server's own idle timeout, so the client always closes it first
# and never sends on a connection the server is closing. Azurite (Node) closes idle connections after 5 s, and a
# busy Azurite closes them late, while a new request is already on its way; Azure's front ends keep them for
# minutes (the Azure load balancer's default idle timeout is 4 minutes).
LOCAL_KEEPALIVE_SECONDS = 4.0
REMOTE_KEEPALIVE_SECONDS = 60.0
# Connections per client; callbacks in flight beyond this wait for one instead of opening more.
POOL_SIZE = 200


def proxies_for(endpoint: str) -> dict[str, str] | None:
    """The proxies (scheme -> URL) for requests to endpoint from HTTP(S)_PROXY, unless NO_PROXY exempts its host."""
    proxies = urllib.request.getproxies_environment()
    host = urlparse(endpoint).hostname
    if not host or urllib.request.proxy_bypass(host):
        return None
    chosen = {scheme: url for scheme, url in proxies.items() if scheme in ("http", "https")}
    return chosen or None


def keepalive_for(endpoint: str) -> float:
    """How long to keep idle connections to endpoint: short for a local server (Azurite, the emulator), long for
    Azure's."""
    host = urlparse(endpoint).hostname or ""
    local = host == "localhost" or host.endswith(".localhost")
    with contextlib.suppress(ValueError):
        address = ipaddress.ip_address(host)
        local = address.is_loopback or address.is_private
    return LOCAL_KEEPALIVE_SECONDS if local else REMOTE_KEEPALIVE_SECONDS


class PooledTransport(AioHttpTransport):
    """azure-core's aiohttp transport on a connection pool that never trusts the environment per request."""

    def __init__(self, *, keepalive_seconds: float, connection_verify: str | bool = True) -> None:
        super().__init__(use_env_settings=False, connection_verify=connection_verify)
        self.keepalive_seconds = keepalive_seconds

    async def open(self) -> None:
        if self.session is None and self._session_owner:
            connector = aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=self.keepalive_seconds)
            self.session = aiohttp.ClientSession(
                connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
            )
        await super().open()  # type: ignore[no-untyped-call]  # azure-core leaves it unannotated


def client_options(endpoint: str, *, use_env_proxies: bool, ca_bundle: str | None = None) -> dict[str, Any]:
    """Keyword arguments for an SDK client of endpoint: its pooled transport, and its proxies if any apply."""
    transport = PooledTransport(keepalive_seconds=keepalive_for(endpoint), connection_verify=ca_bundle or True)
    options: dict[str, Any] = {"transport": transport}
    proxies = proxies_for(endpoint) if use_env_proxies else None
    if proxies:
        options["proxies"] = proxies
    return options
