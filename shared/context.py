"""What every handler receives besides the event: settings, the state store, ACS and reference data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.lookup import Lookup
from shared.settings import Settings
from shared.state import StateStore

if TYPE_CHECKING:
    from shared.acs import ActionRunner


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class Context:
    settings: Settings
    state: StateStore
    acs: ActionRunner
    routing_rules: Lookup
    orders: Lookup
    clock: Callable[[], datetime] = field(default=utc_now)
