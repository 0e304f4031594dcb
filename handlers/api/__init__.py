"""The HTTP API (function keys): every route once, each naming its operation in a module of this package.

A route is one row here and one operation: an async function whose body and response are pydantic models
(shared/api_runtime.py binds, validates and answers; the OpenAPI document at GET /api/openapi.json is generated from
the same). This module stays free of those imports, so registering the routes costs a cold start nothing.
docs/api.md and docs/recording.md describe the routes.
"""

from shared.api import Api, Route

CALL = "calls/{callId}"
PARTICIPANT = CALL + "/participants/{participantId}"

API = Api(
    package=__name__,
    routes=(
        Route("POST", "calls", "calls:place_call", 201),
        Route("POST", "calls/connect", "calls:connect_call", 201),
        Route("GET", CALL, "calls:get_call"),
        Route("DELETE", CALL, "calls:hang_up", 204),
        Route("POST", CALL + "/terminate", "calls:terminate", 204),
        Route("POST", CALL + "/transfer", "calls:transfer", 202),
        Route("POST", CALL + "/play", "media:play", 202),
        Route("POST", CALL + "/cancel-media", "media:cancel_media", 202),
        Route("POST", CALL + "/dtmf", "media:send_dtmf", 202),
        Route("GET", CALL + "/participants", "participants:list_participants"),
        Route("POST", CALL + "/participants", "participants:add_participant", 202),
        Route("DELETE", CALL + "/invitations/{invitationId}", "participants:cancel_add", 202),
        Route("GET", PARTICIPANT, "participants:get_participant"),
        Route("DELETE", PARTICIPANT, "participants:remove_participant", 202),
        Route("POST", PARTICIPANT + "/mute", "participants:mute"),
        Route("POST", PARTICIPANT + "/hold", "participants:hold"),
        Route("POST", PARTICIPANT + "/unhold", "participants:unhold"),
        Route("POST", PARTICIPANT + "/dtmf-recognition", "participants:start_dtmf_recognition"),
        Route("DELETE", PARTICIPANT + "/dtmf-recognition", "participants:stop_dtmf_recognition"),
        Route("POST", CALL + "/recording", "recordings:start_recording", 202),
        Route("POST", CALL + "/recording/pause", "recordings:pause_recording", 202),
        Route("POST", CALL + "/recording/resume", "recordings:resume_recording", 202),
        Route("DELETE", CALL + "/recording", "recordings:stop_recording", 204),
        Route("GET", CALL + "/recordings", "recordings:list_recordings"),
        Route("POST", CALL + "/media-streaming", "streaming:start_media_streaming", 202),
        Route("DELETE", CALL + "/media-streaming", "streaming:stop_media_streaming", 202),
        Route("POST", CALL + "/transcription", "streaming:start_transcription", 202),
        Route("PATCH", CALL + "/transcription", "streaming:update_transcription", 202),
        Route("DELETE", CALL + "/transcription", "streaming:stop_transcription", 202),
        Route("GET", CALL + "/transcript", "streaming:get_transcript"),
        Route("POST", "reminders", "reminders:create_reminder", 201),
        Route("GET", "reminders/{id}", "reminders:get_reminder"),
    ),
)
