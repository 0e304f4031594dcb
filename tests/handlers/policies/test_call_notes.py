"""Media streaming and transcription events: noted on the call's state once each; failures logged, flow untouched."""

import logging

from tests.fixtures.fakes import answered_call, call_at_main_menu, dispatch
from tests.fixtures.recording_fakes import recording_context, typed_event

FAILED_STREAM = {
    "mediaStreamingUpdate": {
        "contentType": "Audio",
        "mediaStreamingStatus": "mediaStreamingFailed",
        "mediaStreamingStatusDetails": "initialWebSocketConnectionFailed",
    },
    "resultInformation": {"code": 500, "subCode": 8603, "message": "Unable to connect to the WebSocket."},
}


async def test_media_streaming_started_then_stopped_is_noted_once_each():
    ctx, acs, store = recording_context(recording_enabled_flows=())
    call = await call_at_main_menu(ctx)
    started = typed_event("media_streaming_started", "MediaStreamingStarted", call, event_id="s-1")
    stopped = typed_event(
        "media_streaming_started",
        "MediaStreamingStopped",
        call,
        mediaStreamingUpdate={
            "mediaStreamingStatus": "mediaStreamingStopped",
            "mediaStreamingStatusDetails": "subscriptionStopped",
        },
    )

    for event in (started, started, stopped):
        await dispatch(event, ctx)

    note = store.states[call].data["media_streaming"]
    assert note["status"] == "mediaStreamingStopped" and note["error"] is None
    assert [details for _, details in note["history"]] == ["subscriptionStarted", "subscriptionStopped"]
    assert acs.ops == [] and store.states[call].step == "main-menu"


async def test_a_streaming_failure_is_logged_and_noted_without_touching_the_flow(caplog):
    ctx, acs, store = recording_context(recording_enabled_flows=())
    call = await call_at_main_menu(ctx)

    with caplog.at_level(logging.WARNING):
        await dispatch(typed_event("media_streaming_started", "MediaStreamingFailed", call, **FAILED_STREAM), ctx)

    assert "Media streaming failed: initialWebSocketConnectionFailed" in caplog.text
    note = store.states[call].data["media_streaming"]
    assert note["error"] == "initialWebSocketConnectionFailed: Unable to connect to the WebSocket."
    assert acs.ops == [] and store.states[call].step == "main-menu"


async def test_transcription_updates_and_failures_are_noted():
    ctx, _, store = recording_context(recording_enabled_flows=())
    call = await call_at_main_menu(ctx)
    failed = typed_event(
        "transcription_updated",
        "TranscriptionFailed",
        call,
        transcriptionUpdate={
            "transcriptionStatus": "transcriptionFailed",
            "transcriptionStatusDetails": "streamConnectionUnsuccessful",
        },
        resultInformation={"code": 500, "subCode": 8578, "message": "Transcription failed."},
    )

    await dispatch(typed_event("transcription_updated", "TranscriptionUpdated", call), ctx)
    await dispatch(failed, ctx)

    note = store.states[call].data["transcription"]
    assert [details for _, details in note["history"]] == ["transcriptionLocaleUpdated", "streamConnectionUnsuccessful"]
    assert note["error"] == "streamConnectionUnsuccessful: Transcription failed."


async def test_an_answered_call_carries_streaming_and_transcription_options_started_per_flow():
    ctx, acs, _ = recording_context(
        recording_enabled_flows=(),
        transcription_enabled_flows=("ivr",),
        receiver_token="s3cret",
        transcription_locale="fr-FR",
    )
    await answered_call(ctx)

    [answer] = acs.calls("answer")
    streaming = answer.request.streaming
    assert streaming.transport_url == "wss://receiver.example/ws?token=s3cret"
    assert streaming.start_media_streaming is False and streaming.start_transcription is True
    assert streaming.locale == "fr-FR"
