"""The audio-frame hook: plug your own code (a speech model, a recorder, a meter) into the receiver.

    async def my_hook(stream: Stream, audio: AudioData) -> None:
        model.feed(stream.subscription_id, audio.pcm)      # 20 ms of 16-bit PCM at stream.sample_rate

    python -m receiver --audio-hook mypackage.hooks:my_hook     (or create_app(config, audio_hook=my_hook))

The hook runs inline, frame by frame, on the stream's connection: keep it quick, or hand frames to a queue.
An exception is logged and the stream goes on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from receiver.messages import AudioData


@dataclass
class Stream:
    """One WebSocket from ACS: what it carries, for which call, and how much has arrived."""

    kind: str = "unknown"  # "audio" or "transcription", once its metadata has arrived
    subscription_id: str = ""
    # From TranscriptionMetadata, or from x-ms-call-* upgrade headers when the sender provides them.
    call_connection_id: str = ""
    correlation_id: str = ""
    sample_rate: int = 0
    locale: str = ""
    audio_frames: int = 0
    silent_frames: int = 0
    dtmf_tones: int = 0
    transcript_lines: int = 0
    open: bool = True


AudioHook = Callable[[Stream, "AudioData"], Awaitable[None]]
