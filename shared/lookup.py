"""Read-mostly reference data in Table Storage (routing rules, orders): one entity per key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from azure.core.exceptions import ResourceNotFoundError

if TYPE_CHECKING:
    from azure.data.tables.aio import TableClient


class Lookup(Protocol):
    async def get(self, key: str) -> Mapping[str, Any] | None:
        """The entity stored under key, or None."""

    async def put(self, key: str, entity: Mapping[str, Any]) -> None:
        """Store (replace) the entity under key."""


class TableLookup:
    """A Lookup on one Azure Table: PartitionKey is the key, RowKey names the kind of row."""

    def __init__(self, table: TableClient, row_key: str) -> None:
        self._table = table
        self._row_key = row_key

    async def get(self, key: str) -> Mapping[str, Any] | None:
        try:
            entity = await self._table.get_entity(key, self._row_key)
        except ResourceNotFoundError:
            return None
        return {k: v for k, v in entity.items() if k not in ("PartitionKey", "RowKey")}

    async def put(self, key: str, entity: Mapping[str, Any]) -> None:
        await self._table.upsert_entity({**entity, "PartitionKey": key, "RowKey": self._row_key})


class InMemoryLookup:
    """A Lookup backed by a dict, for unit tests."""

    def __init__(self, entities: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.entities: dict[str, Mapping[str, Any]] = dict(entities or {})

    async def get(self, key: str) -> Mapping[str, Any] | None:
        return self.entities.get(key)

    async def put(self, key: str, entity: Mapping[str, Any]) -> None:
        self.entities[key] = dict(entity)
