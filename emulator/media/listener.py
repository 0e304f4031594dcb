"""What people do reaches media here: tones and speech to recognizers, departures and hang-ups drop media."""

from __future__ import annotations

from ..models import Backend, CallConnection, CallListener, Participant, ServerCall
from .dtmf import announce_tone
from .engine import MediaState


class MediaListener(CallListener):
    """Routes people's actions to the media state of every live app leg on their call."""

    def on_tones(self, call: ServerCall, participant: Participant, tones: list[str]) -> None:
        raw_id = participant.identifier.raw_id
        for state in _states(call):
            for tone in tones:
                announce_tone(state, raw_id, tone)
                state.hear(raw_id, ("tone", tone))

    def on_speech(self, call: ServerCall, participant: Participant, text: str) -> None:
        for state in _states(call):
            state.hear(participant.identifier.raw_id, ("speech", text))

    def on_participant_left(self, call: ServerCall, participant: Participant) -> None:
        still_present = {p.identifier.raw_id for p in call.present()}
        for state in _states(call):
            state.drop_for(participant.identifier.raw_id, still_present)

    def on_connection_closed(self, connection: CallConnection) -> None:
        state = connection.extensions.get("media")
        if state is not None:
            state.drop_all()


def _states(call: ServerCall) -> list[MediaState]:
    return [c.extensions["media"] for c in call.live_connections() if "media" in c.extensions]


def listener(backend: Backend) -> MediaListener:
    """The app's listener hook; media keeps its state on each leg, so it needs nothing from the backend itself."""
    return MediaListener()
