"""HTTP API, reminders: POST /reminders places a reminder call; GET /reminders/{id} reads its outcome.

The reminder row (reminders table) holds who, when and the call; the outcome lives in the call's state, the one
place the flow writes, so reading it never races the flow.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from handlers import outbound
from handlers.reminder import prompts as reminder
from shared.api_runtime import ApiModel, repeatable
from shared.context import Context
from shared.errors import NotFound
from shared.logging import mask
from shared.validation import DateTime, PhoneNumber, ShortText, Target

logger = logging.getLogger(__name__)

REMINDER_NAMESPACE = uuid.UUID("9d7c2b1e-51c4-4a8e-8f0e-2b6f0e4c7a31")


class CreateReminder(ApiModel):
    to: Target
    when: DateTime
    name: ShortText
    caller_id: PhoneNumber | None = None


class Reminder(ApiModel):
    """A reminder and its outcome so far (docs/app-flows.md, Appointment reminder)."""

    id: str
    to: str
    when: str
    name: str
    call_connection_id: str
    outcome: str


async def create_reminder(ctx: Context, body: CreateReminder, idempotency_key: str | None) -> Reminder:
    """Place an appointment reminder call: call `to` and read them the reminder."""
    caller_id = outbound.caller_id_for(body.caller_id, [body.to], ctx.settings)
    # The same Idempotency-Key gives the same reminder and, through ACS repeatability, the same call.
    reminder_id = (uuid.uuid5(REMINDER_NAMESPACE, idempotency_key) if idempotency_key else uuid.uuid4()).hex
    when = body.when.isoformat()
    call = await outbound.dial(
        ctx,
        targets=[body.to],
        flow=reminder.NAME,
        data={"reminder_id": reminder_id, "name": body.name, "when": when, "outcome": reminder.PENDING},
        caller_id=caller_id,
        headers=repeatable(idempotency_key, "reminders"),
    )
    row = {"to": body.to, "when": when, "name": body.name, "call_connection_id": call.call_connection_id}
    await ctx.reminders.put(reminder_id, row)
    logger.info("Reminder %s: calling %s (call %s)", reminder_id, mask(body.to), call.call_connection_id)
    return reminder_out(reminder_id, row, reminder.PENDING)


async def get_reminder(ctx: Context, id: str) -> Reminder:
    """A reminder: who, when, the call, and the outcome so far."""
    row = await ctx.reminders.get(id)
    if row is None:
        raise NotFound(f"no reminder {id}")
    state = (await ctx.state.load(row["call_connection_id"])).state
    outcome = state.data.get("outcome", reminder.PENDING) if state else reminder.PENDING
    return reminder_out(id, row, outcome)


def reminder_out(reminder_id: str, row: Mapping[str, Any], outcome: str) -> Reminder:
    return Reminder(
        id=reminder_id,
        to=row["to"],
        when=row["when"],
        name=row["name"],
        call_connection_id=row["call_connection_id"],
        outcome=outcome,
    )
