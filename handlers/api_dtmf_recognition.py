"""HTTP API, continuous DTMF recognition: start and stop it for one participant.

The keys pressed meanwhile are kept on the call's state by the continuous_dtmf policy (handlers/policies/) and
shown by GET /calls/{callId} as dtmfReceived.
"""

from __future__ import annotations

from handlers.api_participants import connection, participant_id
from handlers.policies.continuous_dtmf import RECOGNIZING
from shared.acs import identifier
from shared.api import ApiRequest, Reply
from shared.context import Context


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
