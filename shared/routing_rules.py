"""The routing table's rows: how calls to one called number are handled (handlers/call_routing.py decides)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class RoutingRule:
    """How calls to one number are handled; stored in the routing table under the called number.

    mode: "answer" (into `flow`), "busy" (reject as busy), "forward" (redirect to `forward_to`) or "masking"
    (a proxy number: callers in one of its pairings are connected to their peer, anyone else is rejected).
    Empty fields fall back to the ROUTING_* settings.
    """

    number: str
    mode: str = "answer"
    flow: str = ""
    forward_to: str = ""
    blocked_callers: tuple[str, ...] = ()
    business_hours: str = ""
    timezone: str = ""
    after_hours_target: str = ""

    def to_entity(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "flow": self.flow,
            "forward_to": self.forward_to,
            "blocked_callers": ",".join(self.blocked_callers),
            "business_hours": self.business_hours,
            "timezone": self.timezone,
            "after_hours_target": self.after_hours_target,
        }

    @classmethod
    def from_entity(cls, number: str, entity: Mapping[str, Any]) -> RoutingRule:
        blocked = entity.get("blocked_callers") or ""
        return cls(
            number=number,
            mode=entity.get("mode") or "answer",
            flow=entity.get("flow") or "",
            forward_to=entity.get("forward_to") or "",
            blocked_callers=tuple(item.strip() for item in blocked.split(",") if item.strip()),
            business_hours=entity.get("business_hours") or "",
            timezone=entity.get("timezone") or "",
            after_hours_target=entity.get("after_hours_target") or "",
        )
