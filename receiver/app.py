"""The receiver's aiohttp application: ACS WebSockets on /ws, liveness on /health, per-stream counters on /streams.

Every socket is one media-streaming or transcription subscription. Final transcription results become transcript
lines in Table Storage, keyed by the callConnectionId that TranscriptionMetadata names; audio frames are counted
and handed to the audio hook. Nothing a caller says or keys is logged: speakers are masked, DTMF only counted.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from dataclasses import asdict
from typing import Any

from aiohttp import WSMsgType, web
from azure.core.exceptions import ResourceExistsError

from receiver.config import ReceiverConfig, load_hook, transcripts_table
from receiver.hooks import AudioHook, Stream
from receiver.messages import (
    AudioData,
    AudioMetadata,
    BadMessage,
    DtmfData,
    Message,
    TranscriptionData,
    TranscriptionMetadata,
    parse_message,
)
from shared.logging import mask
from shared.transcripts import TableTranscriptStore, TranscriptLine, TranscriptStore

logger = logging.getLogger(__name__)

WEBSOCKET_PATH = "/ws"
# Counters of this many finished streams are kept for /streams; older ones are forgotten.
KEEP_CLOSED_STREAMS = 1000
RECEIVER_KEY: web.AppKey[Receiver] = web.AppKey("receiver")


class Receiver:
    """Accepts ACS's WebSockets and handles their messages; `streams` holds the counters of each."""

    def __init__(self, transcripts: TranscriptStore, *, token: str | None = None, audio_hook: AudioHook | None = None):
        self.transcripts = transcripts
        self.token = token
        self.audio_hook = audio_hook
        self.streams: list[Stream] = []

    def authorized(self, request: web.Request) -> bool:
        """The shared secret as ?token=..., or as a bearer token; anyone when no token is configured."""
        if self.token is None:
            return True
        offered = request.query.get("token") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(offered.encode(), self.token.encode())

    async def accept(self, request: web.Request) -> web.StreamResponse:
        if not self.authorized(request):
            logger.warning("Refused a WebSocket from %s: missing or wrong token", request.remote)
            raise web.HTTPUnauthorized(text="missing or wrong token\n")
        socket = web.WebSocketResponse(heartbeat=30)
        await socket.prepare(request)
        stream = Stream(
            call_connection_id=request.headers.get("x-ms-call-connection-id", ""),
            correlation_id=request.headers.get("x-ms-call-correlation-id", ""),
        )
        self._remember(stream)
        try:
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    await self.handle(stream, frame.data)
        finally:
            stream.open = False
            logger.info(
                "%s stream %s closed: %d audio frames, %d transcript lines",
                stream.kind,
                stream.subscription_id,
                stream.audio_frames,
                stream.transcript_lines,
            )
        return socket

    async def handle(self, stream: Stream, raw: str) -> None:
        """Act on one text frame; a malformed one is logged and skipped, never fatal to the stream."""
        try:
            message = parse_message(raw)
        except BadMessage as exc:
            logger.warning("Skipped a malformed message on stream %s: %s", stream.subscription_id, exc)
            return
        if message is not None:
            await self._on(stream, message)

    async def _on(self, stream: Stream, message: Message) -> None:
        match message:
            case AudioData():
                stream.audio_frames += 1
                stream.silent_frames += message.silent
                if self.audio_hook is not None:
                    await self._feed_hook(stream, message)
            case TranscriptionData():
                if message.final:
                    await self._store(stream, message)
            case DtmfData():
                stream.dtmf_tones += 1  # counted, never logged: keys can be card digits
            case AudioMetadata():
                stream.kind, stream.subscription_id, stream.sample_rate = (
                    "audio",
                    message.subscription_id,
                    message.sample_rate,
                )
                logger.info("Audio stream %s opened (%d Hz)", stream.subscription_id, stream.sample_rate)
            case TranscriptionMetadata():
                stream.kind, stream.subscription_id, stream.locale = (
                    "transcription",
                    message.subscription_id,
                    message.locale,
                )
                stream.call_connection_id, stream.correlation_id = message.call_connection_id, message.correlation_id
                logger.info("Transcription of call %s opened (%s)", stream.call_connection_id, stream.locale)

    async def _feed_hook(self, stream: Stream, audio: AudioData) -> None:
        assert self.audio_hook is not None
        try:
            await self.audio_hook(stream, audio)
        except Exception:
            logger.exception("The audio hook failed on stream %s; the stream goes on", stream.subscription_id)

    async def _store(self, stream: Stream, result: TranscriptionData) -> None:
        if not stream.call_connection_id:
            logger.warning("A transcription result arrived before TranscriptionMetadata; dropped")
            return
        line = TranscriptLine(
            call_connection_id=stream.call_connection_id,
            offset=result.offset,
            duration=result.duration,
            text=result.text,
            confidence=result.confidence,
            speaker=result.participant_raw_id or "",
            locale=stream.locale,
            correlation_id=stream.correlation_id,
        )
        try:
            await self.transcripts.add(line)
        except Exception:
            # Closing the socket would end the transcription for the whole call; one lost line is the lesser harm.
            logger.exception("Could not store a transcript line of call %s", stream.call_connection_id)
            return
        stream.transcript_lines += 1
        logger.info("Transcript line of call %s from %s", stream.call_connection_id, mask(line.speaker))

    def _remember(self, stream: Stream) -> None:
        self.streams.append(stream)
        closed = [s for s in self.streams if not s.open]
        if len(closed) > KEEP_CLOSED_STREAMS:
            forget = {id(s) for s in closed[: len(closed) - KEEP_CLOSED_STREAMS]}
            self.streams = [s for s in self.streams if id(s) not in forget]

    def find(self, *, subscription_id: str | None = None, call_connection_id: str | None = None) -> list[Stream]:
        """The streams (open or finished) of a subscription or a call."""
        return [
            s
            for s in self.streams
            if (subscription_id is None or s.subscription_id == subscription_id)
            and (call_connection_id is None or s.call_connection_id == call_connection_id)
        ]

    async def list_streams(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            raise web.HTTPUnauthorized(text="missing or wrong token\n")
        found = self.find(
            subscription_id=request.query.get("subscriptionId"),
            call_connection_id=request.query.get("callConnectionId"),
        )
        return web.json_response({"streams": [asdict(s) for s in found]})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(receiver: Receiver) -> web.Application:
    app = web.Application()
    app[RECEIVER_KEY] = receiver
    app.router.add_get(WEBSOCKET_PATH, receiver.accept)
    app.router.add_get("/streams", receiver.list_streams)
    app.router.add_get("/health", health)
    return app


async def create_app(config: ReceiverConfig, *, audio_hook: AudioHook | None = None) -> web.Application:
    """The application for config: the transcripts table (created if missing) and the hook (argument or config)."""
    table = transcripts_table(config)
    with contextlib.suppress(ResourceExistsError):
        await table.create_table()
    hook = audio_hook or (load_hook(config.audio_hook) if config.audio_hook else None)
    if config.token is None:
        logger.warning("No RECEIVER_TOKEN: any client that reaches this port may stream to it")
    app = build_app(Receiver(TableTranscriptStore(table), token=config.token, audio_hook=hook))

    async def close_table(_: Any) -> None:
        await table.close()

    app.on_cleanup.append(close_table)
    return app
