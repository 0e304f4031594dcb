"""Number masking's proxy pairings: which two parties a proxy number connects, kept in Table Storage.

One row per party (PartitionKey = proxy number, RowKey = the party's number or ACS id), so the IncomingCall
handler finds the caller's pairing, and the peer to dial, with one point read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from azure.core.exceptions import ResourceNotFoundError

if TYPE_CHECKING:
    from azure.data.tables.aio import TableClient


@dataclass(frozen=True, kw_only=True)
class Pairing:
    """Calls to `proxy` from one party reach the other; `name` is sent along in the X-MS-Custom-Pairing header."""

    name: str
    proxy: str
    party_a: str
    party_b: str

    def peer_of(self, party: str) -> str | None:
        return {self.party_a: self.party_b, self.party_b: self.party_a}.get(party)


class Pairings(Protocol):
    async def find(self, *, proxy: str, caller: str) -> tuple[str, str] | None:
        """(pairing name, peer) for a call from caller to proxy, or None when caller is in no pairing there."""

    async def put(self, pairing: Pairing) -> None: ...


class TablePairings:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    async def find(self, *, proxy: str, caller: str) -> tuple[str, str] | None:
        try:
            row = await self._table.get_entity(proxy, caller)
        except ResourceNotFoundError:
            return None
        return row["pairing"], row["peer"]

    async def put(self, pairing: Pairing) -> None:
        for party in (pairing.party_a, pairing.party_b):
            await self._table.upsert_entity(
                {
                    "PartitionKey": pairing.proxy,
                    "RowKey": party,
                    "pairing": pairing.name,
                    "peer": pairing.peer_of(party),
                }
            )


class InMemoryPairings:
    """Pairings in a dict, for unit tests."""

    def __init__(self, *pairings: Pairing) -> None:
        self.pairings = list(pairings)

    async def find(self, *, proxy: str, caller: str) -> tuple[str, str] | None:
        for pairing in self.pairings:
            peer = pairing.peer_of(caller)
            if pairing.proxy == proxy and peer:
                return pairing.name, peer
        return None

    async def put(self, pairing: Pairing) -> None:
        self.pairings.append(pairing)
