"""HTTP API, reminders: POST /reminders places a reminder call; GET /reminders/{id} reads its outcome.

The reminder row (reminders table) holds who, when and the call; the outcome lives in the call's state, the one
place the flow writes, so reading it never races the flow.
"""

from __future__ import annotations

import logging
import uuid

from handlers import outbound
from handlers.reminder import prompts as reminder
from shared.api import ApiRequest, NotFound, Reply
from shared.context import Context
from shared.errors import BadRequest
from shared.logging import mask

logger = logging.getLogger(__name__)

REMINDER_NAMESPACE = uuid.UUID("9d7c2b1e-51c4-4a8e-8f0e-2b6f0e4c7a31")


async def create_reminder(request: ApiRequest, ctx: Context) -> Reply:
    """POST /reminders {to, when, name, callerId?}: call `to` and read them the reminder."""
    body = request.body
    to = body.target("to")
    when = body.date_time("when")
    name = body.text("name", required=True, max_length=100)
    caller_id = outbound.caller_id_for(body.phone_number("callerId"), [to], ctx.settings)
    # The same Idempotency-Key gives the same reminder and, through ACS repeatability, the same call.
    key = request.idempotency_key
    reminder_id = (uuid.uuid5(REMINDER_NAMESPACE, key) if key else uuid.uuid4()).hex
    properties = await outbound.dial(
        ctx,
        targets=[to],
        flow=reminder.NAME,
        data={"reminder_id": reminder_id, "name": name, "when": when.isoformat(), "outcome": reminder.PENDING},
        caller_id=caller_id,
        request_options=request.repeatability("reminders"),
    )
    row = {"to": to, "when": when.isoformat(), "name": name, "call_connection_id": properties.call_connection_id}
    await ctx.reminders.put(reminder_id, row)
    logger.info("Reminder %s: calling %s (call %s)", reminder_id, mask(to), properties.call_connection_id)
    return Reply(201, reminder_json(reminder_id, row, reminder.PENDING))


async def get_reminder(request: ApiRequest, ctx: Context) -> Reply:
    """GET /reminders/{id}: who, when, the call, and the outcome so far."""
    reminder_id = request.params.get("id", "")
    if not (reminder_id.isascii() and reminder_id.isalnum()) or len(reminder_id) > 64:
        raise BadRequest("id must be a reminder id as returned by POST /api/reminders")
    row = await ctx.reminders.get(reminder_id)
    if row is None:
        raise NotFound(f"no reminder {reminder_id}")
    state = (await ctx.state.load(row["call_connection_id"])).state
    outcome = state.data.get("outcome", reminder.PENDING) if state else reminder.PENDING
    return Reply(200, reminder_json(reminder_id, row, outcome))


def reminder_json(reminder_id: str, row: dict, outcome: str) -> dict:
    return {
        "id": reminder_id,
        "to": row["to"],
        "when": row["when"],
        "name": row["name"],
        "callConnectionId": row["call_connection_id"],
        "outcome": outcome,
    }
