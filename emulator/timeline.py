"""Per-call timeline: every REST request, event sent and simulated-person action, with timestamps."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock


@dataclass
class TimelineEntry:
    at: str
    elapsed_ms: float
    kind: str  # request | callback | eventgrid | person | emulator | fault
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "elapsedMs": round(self.elapsed_ms, 1),
            "kind": self.kind,
            "summary": self.summary,
            "detail": self.detail,
        }


class Timeline:
    """Append-only log for one server call; every call connection of that call writes here too."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.entries: list[TimelineEntry] = []
        # Told of each entry as it is added (the web page's live feed); an observer must not raise.
        self.observers: list[Callable[[TimelineEntry], None]] = []

    def add(self, kind: str, summary: str, **detail: Any) -> TimelineEntry:
        entry = TimelineEntry(Clock.timestamp(), (time.monotonic() - self.started) * 1000, kind, summary, detail)
        self.entries.append(entry)
        for observe in self.observers:
            observe(entry)
        return entry

    def to_list(self) -> list[dict[str, Any]]:
        return [entry.to_dict() for entry in self.entries]
