"""Continuous DTMF recognition (started and stopped through the API): every key received is kept on the call.

ACS reports each key as its own ContinuousDtmfRecognitionToneReceived, at least once and possibly out of order;
the tones are kept by sequenceId, so a redelivered or late event lands in its place exactly once. The newest
MAX_TONES_KEPT are kept, so the state row stays small however long the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.engine import Next, Policy, Transition, Turn, split_context
from shared.events import TONE_KEYS, ContinuousDtmfToneReceived, event_types_of

RECOGNIZING = "api-dtmf-recognition"
MAX_TONES_KEPT = 200


def received_keys(data: Mapping[str, Any]) -> str:
    """The keys received so far, in sequence order, e.g. "1Z4#"."""
    return "".join(TONE_KEYS.get(tone, "?") for _, tone in data.get("dtmf_received", []))


async def keep_tones(turn: Turn, inner: Next) -> Transition | None:
    """Keep the tone at its sequenceId; a sequenceId already kept is a duplicate."""
    transition = await inner(turn)
    event = turn.event
    if not isinstance(event, ContinuousDtmfToneReceived) or split_context(event.operation_context)[0] != RECOGNIZING:
        return transition
    received = {int(sequence): tone for sequence, tone in turn.state.data.get("dtmf_received", [])}
    if event.sequence_id in received:
        return transition
    received[event.sequence_id] = event.tone
    kept = sorted(received.items())[-MAX_TONES_KEPT:]
    return (transition or turn.stay()).with_data(dtmf_received=[list(item) for item in kept])


POLICY = Policy(keep_tones, event_types=event_types_of(ContinuousDtmfToneReceived))
