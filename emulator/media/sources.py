"""Play sources: parsing PlaySource bodies, fetching and checking audio files, and how long each one plays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from ..audio import InvalidAudio, check_playable_wav, speech_duration, ssml_duration
from ..errors import missing_field
from ..events import result_for
from ..validation import check_type, require, require_enum, require_url

SOURCE_KINDS = ("file", "text", "ssml")
MAX_TTS_CHARACTERS = 4000  # DOCS recognize concept: text-to-speech input limit
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=10)
# 8582 is a documented reason code (PlaySourceTextOrSsmlEmpty) without a documented message; this one is ours.
TEXT_OR_SSML_EMPTY = (400, 8582, "Action failed, the play source text or SSML is empty.")


@dataclass(frozen=True)
class PlaySource:
    kind: str  # file | text | ssml
    content: str  # the file URI, the text, or the SSML document

    @property
    def needs_speech_service(self) -> bool:
        return self.kind != "file"


class PlayFailure(Exception):
    """A play source that cannot be played: PlayFailed (or RecognizeFailed 8511) names it by index."""

    def __init__(self, index: int, result: tuple[int, int, str]) -> None:
        super().__init__(result[2])
        self.index = index
        self.result = result


def parse_play_source(value: Any, path: str) -> PlaySource:
    check_type(value, path, dict)
    kind = require_enum(value, f"{path}.kind", SOURCE_KINDS)
    if kind == "file":
        return PlaySource(kind, require_url(require(value, f"{path}.file", dict), f"{path}.file.uri"))
    if kind == "text":
        return PlaySource(kind, _spoken_text(require(value, f"{path}.text", dict), f"{path}.text.text"))
    return PlaySource(kind, _spoken_text(require(value, f"{path}.ssml", dict), f"{path}.ssml.ssmlText"))


def _spoken_text(holder: dict, path: str) -> str:
    # An empty string is a valid request that fails later with PlayFailed 8582, so only a missing field is a 400.
    value = holder.get(path.rsplit(".", 1)[-1])
    if value is None:
        raise missing_field(path)
    return check_type(value, path, str)


def parse_play_sources(values: list, path: str) -> list[PlaySource]:
    return [parse_play_source(value, f"{path}[{index}]") for index, value in enumerate(values)]


async def total_duration(sources: list[PlaySource], session: aiohttp.ClientSession) -> float:
    """Seconds the sources take to play one after another; PlayFailure for the first that cannot be played."""
    total = 0.0
    for index, source in enumerate(sources):
        try:
            total += await _duration(source, session)
        except _Unplayable as problem:
            raise PlayFailure(index, problem.result) from None
    return total


class _Unplayable(Exception):
    def __init__(self, result: tuple[int, int, str]) -> None:
        super().__init__(result[2])
        self.result = result


async def _duration(source: PlaySource, session: aiohttp.ClientSession) -> float:
    if source.kind == "file":
        return _wav_duration(await _download(source.content, session))
    if not source.content.strip():
        raise _Unplayable(TEXT_OR_SSML_EMPTY)
    if len(source.content) > MAX_TTS_CHARACTERS:
        raise _Unplayable(result_for("PlayFailed", 8565, 400))
    if source.kind == "text":
        return speech_duration(source.content)
    try:
        return ssml_duration(source.content)
    except ValueError:
        raise _Unplayable(result_for("PlayFailed", 8565, 400)) from None


async def _download(uri: str, session: aiohttp.ClientSession) -> bytes:
    try:
        async with session.get(uri, timeout=FETCH_TIMEOUT) as response:
            if not 200 <= response.status < 300:
                raise _Unplayable(result_for("PlayFailed", 8536))
            return await response.read()
    except (aiohttp.ClientError, TimeoutError):
        raise _Unplayable(result_for("PlayFailed", 8536)) from None


def _wav_duration(data: bytes) -> float:
    try:
        return check_playable_wav(data)
    except InvalidAudio:
        raise _Unplayable(result_for("PlayFailed", 8535)) from None
