"""Continuous DTMF recognition: the API starts and stops it; every tone received is kept on the call's state.

ACS reports each key as its own ContinuousDtmfRecognitionToneReceived, at least once and possibly out of order;
the tones are kept by sequenceId, so a redelivered or late event lands in its place exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.api_participants import connection, participant_id
from shared.acs import identifier
from shared.api import ApiRequest, Reply
from shared.context import Context
from shared.events import TONE_KEYS, ContinuousDtmfToneReceived
from shared.flow import Transition, advance
from shared.routing import Router
from shared.state import CallState

RECOGNIZING = "api-dtmf-recognition"

router = Router()


async def start(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/participants/{participantId}/dtmf-recognition."""
    who = participant_id(request)
    await connection(request, ctx).start_continuous_dtmf_recognition(identifier(who), operation_context=RECOGNIZING)
    return Reply(200, {"participant": who, "recognizing": True})


async def stop(request: ApiRequest, ctx: Context) -> Reply:
    """DELETE /calls/{callId}/participants/{participantId}/dtmf-recognition."""
    who = participant_id(request)
    await connection(request, ctx).stop_continuous_dtmf_recognition(identifier(who), operation_context=RECOGNIZING)
    return Reply(200, {"participant": who, "recognizing": False})


def received_keys(data: Mapping[str, Any]) -> str:
    """The keys received so far, in sequence order, e.g. "1Z4#"."""
    return "".join(TONE_KEYS.get(tone, "?") for _, tone in data.get("dtmf_received", []))


@router.register("ContinuousDtmfRecognitionToneReceived", operation_context=RECOGNIZING)
async def on_tone(event: ContinuousDtmfToneReceived, ctx: Context) -> None:
    """Keep the tone at its sequenceId; a sequenceId already kept is a duplicate."""

    def keep(state: CallState) -> Transition | None:
        received = {sequence: tone for sequence, tone in state.data.get("dtmf_received", [])}
        if event.sequence_id in received:
            return None
        received[event.sequence_id] = event.tone
        return Transition(step=state.step, data={"dtmf_received": sorted(received.items())})

    await advance(event, ctx, decide=keep)
