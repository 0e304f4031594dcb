"""Which audio URLs the app lets ACS fetch: an allow-list, and never loopback, link-local or private addresses.

An audio URL in a play, hold or announce request is fetched by ACS (locally: by the emulator), so an unchecked one
is a server-side request forgery: `http://169.254.169.254/...` (instance metadata), `http://127.0.0.1:...` or
`https://user:pass@...`. A URL is accepted only when it matches MEDIA_URL_ALLOWLIST (host names, or URL prefixes
such as `https://media.contoso.com/prompts/`; by default the app's own storage account) and its host is public;
MEDIA_URL_ALLOW_LOCAL=true (local development only) lets loopback and private hosts through, never userinfo.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

MAX_URL_CHARS = 2048
_PRINTABLE_ASCII = re.compile(r"\A[\x21-\x7e]+\Z")
# A host whose last label is numeric is an IP address in some notation ("2130706433", "0x7f.1", "127.1").
_NUMERIC_LABEL = re.compile(r"\A(?:0x[0-9a-f]*|[0-9]+)\Z", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class MediaUrlPolicy:
    """allowed: host names ("media.contoso.com") or URL prefixes ("https://cdn.contoso.com/audio/")."""

    allowed: tuple[str, ...] = ()
    allow_local: bool = False

    def refusal(self, url: str) -> str | None:
        """Why ACS must not be sent to fetch url, or None when it may."""
        if len(url) > MAX_URL_CHARS or not _PRINTABLE_ASCII.match(url) or "\\" in url:
            return f"must be an http(s) URL of at most {MAX_URL_CHARS} printable ASCII characters"
        origin = _origin(url)
        if origin is None:
            return "must be an http(s) URL with a host name"
        if "@" in urlsplit(url).netloc:
            return "must not carry a user name or password"
        if any(segment in (".", "..") for segment in unquote(origin.path).split("/")):
            return "must not contain '.' or '..' path segments"
        if reason := _host_refusal(origin.host, allow_local=self.allow_local):
            return reason
        if not any(_allows(entry, origin) for entry in self.allowed):
            return "is not on MEDIA_URL_ALLOWLIST (host names or URL prefixes ACS may fetch audio from)"
        return None


def _origin(url: str) -> _Origin | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    return _Origin(scheme, host, port or _DEFAULT_PORTS[scheme], parts.path or "/")


def _host_refusal(host: str, *, allow_local: bool) -> str | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None:
        if "%" in host or not host or _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
            return "must name its host by a DNS name or a plain IP address"
        local = host == "localhost" or host.endswith(".localhost")
    else:
        mapped = getattr(address, "ipv4_mapped", None)
        local = not (mapped or address).is_global
    if local and not allow_local:
        return "points at a loopback, link-local or private address (MEDIA_URL_ALLOW_LOCAL is for local development)"
    return None


def _allows(entry: str, origin: _Origin) -> bool:
    if "://" not in entry:
        return origin.host == entry.lower().rstrip(".")
    prefix = _origin(entry)
    if prefix is None:
        return False
    path = prefix.path if prefix.path.endswith("/") else prefix.path + "/"
    return (prefix.scheme, prefix.host, prefix.port) == (origin.scheme, origin.host, origin.port) and (
        origin.path.startswith(path)
    )


def storage_origins(*urls: str | None) -> tuple[str, ...]:
    """The blob origins ("https://account.blob.core.windows.net/") of the app's own storage account URLs.

    A table endpoint (https://account.table.core.windows.net/) names the same account's blob endpoint.
    """
    origins = []
    for url in urls:
        origin = _origin(url) if url else None
        if origin is None:
            continue
        host = origin.host.replace(".table.", ".blob.", 1)
        port = "" if origin.port == _DEFAULT_PORTS[origin.scheme] else f":{origin.port}"
        origins.append(f"{origin.scheme}://{host}{port}/")
    return tuple(dict.fromkeys(origins))
