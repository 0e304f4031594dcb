"""HTTP under the SDK clients: a kept-alive connection pool per client, and proxies looked up once at start-up.

azure-core's aiohttp transport, left to itself, asks aiohttp to read proxy variables and .netrc on every request
(two default-executor hops each) and keeps idle connections for 15 s, longer than Azurite (Node's 5 s) keeps
them: a request that picks up a connection the server has just closed fails with "Server disconnected", and a
`$batch` POST is not retried. Here the pool forgets idle connections before any server does, and the proxy for
each client's one endpoint is decided when the client is built (HTTP(S)_PROXY, NO_PROXY), not per request.
"""

from __future__ import annotations

import urllib.request
from typing import Any
from urllib.parse import urlparse

import aiohttp
from azure.core.pipeline.transport import AioHttpTransport

# Below Azurite's 5 s idle timeout, far below Azure Storage's and ACS's front ends (minutes): the client always
# closes an idle connection first, so it never sends on one the server is closing.
KEEPALIVE_SECONDS = 4.0
# Connections per client; callbacks in flight beyond this wait for one instead of opening more.
POOL_SIZE = 200


def proxies_for(endpoint: str) -> dict[str, str] | None:
    """The proxies (scheme -> URL) for requests to endpoint from HTTP(S)_PROXY, unless NO_PROXY exempts its host."""
    proxies = urllib.request.getproxies_environment()
    host = urlparse(endpoint).hostname
    if not host or urllib.request.proxy_bypass_environment(host, proxies):
        return None
    chosen = {scheme: url for scheme, url in proxies.items() if scheme in ("http", "https")}
    return chosen or None


class PooledTransport(AioHttpTransport):
    """azure-core's aiohttp transport on a connection pool that never trusts the environment per request."""

    def __init__(self, *, connection_verify: str | bool = True) -> None:
        super().__init__(use_env_settings=False, connection_verify=connection_verify)

    async def open(self) -> None:
        if self.session is None and self._session_owner:
            connector = aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=KEEPALIVE_SECONDS)
            self.session = aiohttp.ClientSession(
                connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
            )
        await super().open()


def client_options(endpoint: str, *, use_env_proxies: bool, ca_bundle: str | None = None) -> dict[str, Any]:
    """Keyword arguments for an SDK client of endpoint: its pooled transport, and its proxies if any apply."""
    options: dict[str, Any] = {"transport": PooledTransport(connection_verify=ca_bundle or True)}
    proxies = proxies_for(endpoint) if use_env_proxies else None
    if proxies:
        options["proxies"] = proxies
    return options
