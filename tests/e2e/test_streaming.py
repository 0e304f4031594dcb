"""Media streaming end to end: the API starts and stops the call's audio stream, the receiver counts its frames,
and an unreachable receiver produces failure events without disturbing the call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller
from receiver.hooks import Stream
from tests.e2e.api_client import Api, callbacks
from tests.e2e.helpers import read_call_state, wait_for_app_connection, wait_until


def streams(stack: LocalStack) -> list[Stream]:
    assert stack.receiver is not None and stack.receiver.receiver is not None
    return list(stack.receiver.receiver.streams)


def new_audio_stream(stack: LocalStack, before: list[Stream]) -> Stream | None:
    """The audio stream that opened since `before`: AudioMetadata names no call, and tests run one call at a time."""
    known = {id(stream) for stream in before}
    opened = [s for s in streams(stack) if id(s) not in known and s.kind == "audio"]
    return opened[0] if opened else None


def note(stack: LocalStack, call: str, key: str) -> dict:
    return (read_call_state(stack, call) or {}).get("data", {}).get(key, {})


@contextmanager
def receiver_down(stack: LocalStack) -> Iterator[None]:
    """The receiver stops listening for the duration (its port refuses connections), then serves again."""
    assert stack.receiver is not None
    stack.receiver.stop()
    try:
        yield
    finally:
        stack.receiver.start()


def test_streaming_starts_counts_frames_and_stops(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    caller = ScriptedCaller(control, "+14255550181").dial("+18005550100")
    call = wait_for_app_connection(control, caller.call_id)
    caller.wait_for_prompt("press 1")

    before = streams(stack)
    assert api.post(f"/calls/{call}/media-streaming") == (202, {"mediaStreaming": "starting"})
    wait_until(lambda: callbacks(control, caller.call_id, "MediaStreamingStarted"), "MediaStreamingStarted")
    stream = wait_until(lambda: new_audio_stream(stack, before), "the audio stream at the receiver")
    wait_until(lambda: stream.audio_frames >= 5, "audio frames at the receiver")
    assert stream.kind == "audio" and stream.sample_rate == 16000

    assert api.delete(f"/calls/{call}/media-streaming") == (202, {"mediaStreaming": "stopping"})
    wait_until(lambda: callbacks(control, caller.call_id, "MediaStreamingStopped"), "MediaStreamingStopped")
    wait_until(lambda: not stream.open, "the stream to close")
    streamed = wait_until(
        lambda: (n := note(stack, call, "media_streaming")).get("status") == "mediaStreamingStopped" and n,
        "MediaStreamingStopped noted on the call's state",
    )
    assert [entry[1] for entry in streamed["history"]] == ["subscriptionStarted", "subscriptionStopped"]
    caller.hang_up()


def test_unreachable_receiver_fails_streams_not_the_call(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    with receiver_down(stack):
        caller = ScriptedCaller(control, "+14255550182").dial("+18005550100")
        call = wait_for_app_connection(control, caller.call_id)
        caller.wait_for_prompt("press 1")
        assert api.post(f"/calls/{call}/transcription")[0] == 202
        wait_until(lambda: callbacks(control, caller.call_id, "TranscriptionFailed"), "TranscriptionFailed")
        assert api.post(f"/calls/{call}/media-streaming")[0] == 202
        wait_until(lambda: callbacks(control, caller.call_id, "MediaStreamingFailed"), "MediaStreamingFailed")

    failed = wait_until(lambda: note(stack, call, "media_streaming").get("error"), "the streaming failure noted")
    assert failed.startswith("initialWebSocketConnectionFailed")
    transcription = wait_until(lambda: note(stack, call, "transcription").get("error"), "the transcription failure")
    assert transcription.startswith("streamConnectionUnsuccessful")
    caller.press("1")  # the flow carries on
    caller.wait_for_prompt("order number")
    caller.hang_up()
