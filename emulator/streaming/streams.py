"""The WebSocket the emulator opens to the app, and what it writes there for media streaming and transcription."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import aiohttp

from ..audio import speech_duration
from ..models import Backend, CallConnection, ServerCall
from . import messages
from .options import MediaStreamingOptions, TranscriptionOptions

# At time scales below 1 the emulator thins audio instead of sending 50 frames per emulated second: at most one
# frame (per participant) every 20 ms of real time keeps CPU low however fast time runs.
MIN_REAL_FRAME_INTERVAL = 0.02
MAX_UNMIXED_CHANNELS = 4
SPEAKING = "speaking_until"  # backend store: (serverCallId, rawId) -> emulated time the phrase ends


class StreamConnectError(Exception):
    """The app's transport URL could not be reached, or refused the WebSocket upgrade."""


class StreamSocket:
    """A WebSocket to the app's transport URL: the emulator writes JSON text messages and reads what comes back."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.url = url
        self._session = session
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    @property
    def is_open(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def open(self) -> None:
        try:
            self._ws = await self._session.ws_connect(self.url, autoping=True)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
            raise StreamConnectError(f"{type(error).__name__}: {error}") from error

    async def send(self, *batch: dict) -> bool:
        """Send each message as its own text frame; False once the socket is gone."""
        for message in batch:
            if not self.is_open:
                return False
            try:
                await self._ws.send_str(json.dumps(message))  # type: ignore[union-attr]
            except (aiohttp.ClientError, ConnectionError):
                return False
        return self.is_open

    async def receive(self, on_message: Callable[[dict[str, Any]], None]) -> None:
        """Read until the app closes the socket, handing each JSON object it sends to `on_message`."""
        assert self._ws is not None
        async for frame in self._ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                message = json.loads(frame.data)
            except json.JSONDecodeError:
                continue
            if isinstance(message, dict):
                on_message(message)

    async def close(self) -> None:
        if self.is_open:
            await self._ws.close()  # type: ignore[union-attr]


class Stream:
    """A started media-streaming or transcription subscription of one app leg."""

    def __init__(self, connection: CallConnection, options: Any) -> None:
        self.connection = connection
        self.options = options
        self.socket: StreamSocket | None = None
        self.subscription_id = str(uuid.uuid4())
        self.task: asyncio.Task | None = None
        self.started = 0.0  # emulated clock when the socket opened
        self.from_app: Counter[str] = Counter()  # kinds of the messages the app sent back

    @property
    def active(self) -> bool:
        return self.socket is not None and self.socket.is_open

    @property
    def backend(self) -> Backend:
        return self.connection.backend

    def greeting(self) -> dict:
        """The first message after the socket opens."""
        raise NotImplementedError

    async def pump(self) -> None:
        """Write what the stream produces on its own while the socket is open; phrases and tones arrive by hooks."""


class MediaStream(Stream):
    options: MediaStreamingOptions

    def greeting(self) -> dict:
        return messages.audio_metadata(self.subscription_id, self.options.sample_rate)

    async def pump(self) -> None:
        clock = self.backend.clock
        tick = max(messages.FRAME_SECONDS, MIN_REAL_FRAME_INTERVAL / clock.scale)
        silent, tone = messages.silent_frame(self.options.sample_rate), messages.tone_frame(self.options.sample_rate)
        assert self.socket is not None
        while await self.socket.send(*self.frames(silent, tone)):
            await clock.sleep(tick)

    def frames(self, silent: bytes, tone: bytes) -> list[dict]:
        """One mixed frame (tagged with whoever speaks), or one frame per person for unmixed audio."""
        speakers = speaking_now(self.connection)
        if self.options.audio_channel_type == "unmixed":
            people = [p.identifier.raw_id for p in self.connection.call.people()][:MAX_UNMIXED_CHANNELS]
            return [
                messages.audio_data(
                    tone if raw_id in speakers else silent, silent=raw_id not in speakers, participant_raw_id=raw_id
                )
                for raw_id in people
            ]
        speaker = speakers[0] if speakers else None
        return [
            messages.audio_data(silent if speaker is None else tone, silent=speaker is None, participant_raw_id=speaker)
        ]

    async def press(self, raw_id: str, tones: list[str]) -> None:
        if self.options.dtmf_tones and self.socket is not None:
            await self.socket.send(*(messages.dtmf_data(tone, raw_id) for tone in tones))


class TranscriptionStream(Stream):
    options: TranscriptionOptions

    def __init__(self, connection: CallConnection, options: TranscriptionOptions) -> None:
        super().__init__(connection, options)
        self.locale = options.locale

    def greeting(self) -> dict:
        call = self.connection.call
        return messages.transcription_metadata(
            self.subscription_id, self.locale, self.connection.call_connection_id, call.correlation_id
        )

    def transcribe(self, raw_id: str, text: str) -> None:
        """Send the phrase once it has been said; with intermediate results, also each growing prefix before."""
        words = text.split()
        socket = self.socket
        if not words or socket is None:
            return
        duration = speech_duration(text)
        offset = self.backend.clock.monotonic() - self.started
        per_word = duration / len(words)
        if self.options.intermediate_results:
            for count in range(1, len(words)):
                interim = messages.transcription_data(
                    " ".join(words[:count]),
                    offset_seconds=offset,
                    duration_seconds=count * per_word,
                    participant_raw_id=raw_id,
                    final=False,
                )
                self.backend.later(count * per_word, partial(socket.send, interim))
        final = messages.transcription_data(
            text, offset_seconds=offset, duration_seconds=duration, participant_raw_id=raw_id, final=True
        )
        self.backend.later(duration, partial(socket.send, final))


def speaking_now(connection: CallConnection) -> list[str]:
    """Raw ids of the people on this call whose current phrase has not ended yet."""
    backend = connection.backend
    until = backend.store(SPEAKING)
    now = backend.clock.monotonic()
    return [
        p.identifier.raw_id
        for p in connection.call.people()
        if until.get((connection.call.server_call_id, p.identifier.raw_id), 0.0) > now
    ]


def mark_speaking(call: ServerCall, raw_id: str, text: str) -> None:
    """Remember that `raw_id` speaks for as long as the phrase takes, so media streams carry their voice."""
    backend = call.backend
    backend.store(SPEAKING)[(call.server_call_id, raw_id)] = backend.clock.monotonic() + speech_duration(text)
