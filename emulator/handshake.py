"""Event Grid's subscription validation handshake, sent when a subscription is registered, as Event Grid does."""

from __future__ import annotations

import asyncio
import logging

from .delivery import EventGridSubscription
from .models import Backend

logger = logging.getLogger(__name__)

VALIDATIONS = "eventgrid.validations"
# Event Grid gives up on a handshake after a few minutes; the emulator retries for about 15 s while the app starts.
ATTEMPTS = 5
FIRST_BACKOFF_SECONDS = 1.0


def validations(backend: Backend) -> dict[str, str]:
    """Subscription URL -> pending | validated | failed."""
    return backend.store(VALIDATIONS)


def validate_later(backend: Backend, subscription: EventGridSubscription) -> None:
    """Send the SubscriptionValidation handshake in the background and log its outcome.

    A subscriber that never answers it still gets events (Event Grid would refuse to create the subscription): the
    emulator warns instead, so an app that is started after the emulator is not locked out.
    """
    validations(backend)[subscription.url] = "pending"

    async def run() -> None:
        for attempt in range(ATTEMPTS):
            if await backend.eventgrid.validate(subscription):
                validations(backend)[subscription.url] = "validated"
                logger.info("Event Grid subscription %s validated (%s)", subscription.name, subscription.url)
                return
            if attempt + 1 < ATTEMPTS:
                # Real seconds: this waits for the app to start, which no --time-scale speeds up.
                await asyncio.sleep(FIRST_BACKOFF_SECONDS * 2**attempt)
        validations(backend)[subscription.url] = "failed"
        logger.warning(
            "Event Grid subscription %s (%s) did not answer the validation handshake after %d attempts; "
            "events are delivered anyway",
            subscription.name,
            subscription.url,
            ATTEMPTS,
        )

    backend.spawn(run())
