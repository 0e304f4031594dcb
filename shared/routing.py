"""A gidgethub-style router: handlers register for an event type, optionally narrowed by one event attribute."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Awaitable[None]]


class Router:
    """Maps event types (and at most one attribute, e.g. operation_context="main-menu") to async handlers."""

    def __init__(self, *routers: Router) -> None:
        self._shallow: dict[str, list[Handler]] = defaultdict(list)
        self._deep: dict[str, dict[str, dict[Any, list[Handler]]]] = defaultdict(lambda: defaultdict(dict))
        for router in routers:
            for event_type, handlers in router._shallow.items():
                self._shallow[event_type].extend(handlers)
            for event_type, details in router._deep.items():
                for attribute, values in details.items():
                    for value, handlers in values.items():
                        self._deep[event_type][attribute].setdefault(value, []).extend(handlers)

    def add(self, handler: Handler, event_type: str, **detail: Any) -> None:
        """Register handler for event_type, or only for events whose attribute equals the given value."""
        if len(detail) > 1:
            raise TypeError(f"dispatch on at most one attribute, not {sorted(detail)}")
        if not detail:
            self._shallow[event_type].append(handler)
            return
        [(attribute, value)] = detail.items()
        self._deep[event_type][attribute].setdefault(value, []).append(handler)

    def register(self, event_type: str, **detail: Any) -> Callable[[Handler], Handler]:
        """Decorator form of add()."""
        if len(detail) > 1:
            raise TypeError(f"dispatch on at most one attribute, not {sorted(detail)}")

        def decorator(handler: Handler) -> Handler:
            self.add(handler, event_type, **detail)
            return handler

        return decorator

    def handlers_for(self, event: Any) -> list[Handler]:
        """Every handler registered for this event, shallow ones first."""
        found = list(self._shallow.get(event.type, ()))
        for attribute, values in self._deep.get(event.type, {}).items():
            found.extend(values.get(getattr(event, attribute, None), ()))
        return found

    async def dispatch(self, event: Any, ctx: Any) -> None:
        """Run every handler for event in registration order; an event nobody handles is logged at DEBUG."""
        handlers = self.handlers_for(event)
        if not handlers:
            logger.debug(
                "No handler for %s (operation context %s, event %s)", event.type, event.operation_context, event.id
            )
            return
        for handler in handlers:
            await handler(event, ctx)
