"""Audio the emulator plays and records: WAV validation, TTS/SSML durations, and PCM16 mono 16 kHz synthesis."""

from __future__ import annotations

import io
import math
import re
import struct
import sys
import wave
import xml.etree.ElementTree as ET
from array import array

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2
_WAVE_FORMAT_PCM = 1
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# Azure TTS pause lengths for <break strength="..."/>; a break with neither time nor strength is "medium".
_BREAK_STRENGTH_SECONDS = {"none": 0.0, "x-weak": 0.25, "weak": 0.5, "medium": 0.75, "strong": 1.0, "x-strong": 1.25}
_BREAK_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$", re.IGNORECASE)


class InvalidAudio(ValueError):
    """The file is not audio ACS can play (PlayFailed 400/8535)."""


def _chunks(data: bytes) -> dict[bytes, tuple[int, int]]:
    """RIFF chunk id -> (offset of its payload, declared size), first occurrence wins."""
    found: dict[bytes, tuple[int, int]] = {}
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        found.setdefault(chunk_id, (offset + 8, size))
        offset += 8 + size + (size & 1)
    return found


def _fmt_chunk(chunks: dict[bytes, tuple[int, int]], data: bytes) -> tuple[int, int, int, int] | None:
    """(format tag, channels, sample rate, bits per sample) from the 'fmt ' chunk, or None if absent."""
    if b"fmt " not in chunks:
        return None
    start, size = chunks[b"fmt "]
    if size < 16 or start + 16 > len(data):
        return None
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, start)
    if tag == _WAVE_FORMAT_EXTENSIBLE and size >= 26 and start + 26 <= len(data):
        # WAVE_FORMAT_EXTENSIBLE keeps the real encoding in the first two bytes of its SubFormat GUID.
        tag = struct.unpack_from("<H", data, start + 24)[0]
    return tag, channels, rate, bits


def check_playable_wav(data: bytes) -> float:
    """Duration in seconds of a WAV ACS can play: RIFF/WAVE PCM, mono, 16 kHz, 16-bit (contract §7.2)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise InvalidAudio("not a WAV file (no RIFF/WAVE header); ACS plays only WAV PCM mono 16 kHz 16-bit")
    chunks = _chunks(data)
    fmt = _fmt_chunk(chunks, data)
    if fmt is None:
        raise InvalidAudio("WAV file has no valid 'fmt ' chunk")
    tag, channels, rate, bits = fmt
    problems = []
    if tag != _WAVE_FORMAT_PCM:
        problems.append(f"encoding is not PCM (format tag {tag})")
    if channels != 1:
        problems.append(f"must be mono, has {channels} channels")
    if rate != SAMPLE_RATE:
        problems.append(f"must be 16000 Hz, is {rate} Hz")
    if bits != 16:
        problems.append(f"must be 16-bit, is {bits}-bit")
    if problems:
        raise InvalidAudio("unsupported WAV: " + "; ".join(problems) + " (ACS plays only WAV PCM mono 16 kHz 16-bit)")
    if b"data" not in chunks:
        raise InvalidAudio("WAV file has no 'data' chunk")
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            frames = reader.getnframes()
    except wave.Error:
        # Python 3.11's wave rejects WAVE_FORMAT_EXTENSIBLE even when it wraps plain PCM; size the data chunk directly.
        start, size = chunks[b"data"]
        frames = min(size, len(data) - start) // SAMPLE_WIDTH
    except (EOFError, struct.error) as exc:
        raise InvalidAudio(f"corrupt WAV file: {exc}") from exc
    return frames / SAMPLE_RATE


def speech_duration(text: str, words_per_minute: int = 150) -> float:
    """How long text-to-speech takes to say plain text at a typical speaking rate."""
    if words_per_minute <= 0:
        raise ValueError("words_per_minute must be positive")
    return len(text.split()) * 60.0 / words_per_minute


def _parse_ssml(ssml: str) -> ET.Element:
    try:
        return ET.fromstring(ssml)  # noqa: S314 - input is the app's own SSML; Python's expat limits entity expansion
    except ET.ParseError as exc:
        raise ValueError(f"invalid SSML: {exc}") from exc


def _local_name(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def ssml_text(ssml: str) -> str:
    """The spoken text of an SSML document (tags stripped, whitespace collapsed); ValueError if it is not XML."""
    return " ".join("".join(_parse_ssml(ssml).itertext()).split())


def _break_seconds(element: ET.Element) -> float:
    time_attr = element.get("time")
    if time_attr is not None:
        match = _BREAK_TIME.match(time_attr)
        if not match:
            raise ValueError(f"invalid SSML break time {time_attr!r}")
        value = float(match.group(1))
        return value / 1000.0 if match.group(2).lower() == "ms" else value
    strength = (element.get("strength") or "medium").lower()
    if strength not in _BREAK_STRENGTH_SECONDS:
        raise ValueError(f"invalid SSML break strength {strength!r}")
    return _BREAK_STRENGTH_SECONDS[strength]


def ssml_duration(ssml: str, words_per_minute: int = 150) -> float:
    """Speaking time of the SSML text plus its <break/> pauses."""
    root = _parse_ssml(ssml)
    pauses = sum(_break_seconds(e) for e in root.iter() if _local_name(e.tag) == "break")
    return speech_duration(" ".join(root.itertext()), words_per_minute) + pauses


def _samples(seconds: float, sample_rate: int = SAMPLE_RATE) -> int:
    if seconds < 0:
        raise ValueError("duration must not be negative")
    return round(seconds * sample_rate)


def _to_bytes(samples: array) -> bytes:
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def silence(seconds: float) -> bytes:
    """PCM16 mono 16 kHz silence."""
    return bytes(_samples(seconds) * SAMPLE_WIDTH)


def tone(frequency_hz: float, seconds: float, amplitude: float = 0.3) -> bytes:
    """PCM16 mono 16 kHz sine tone; amplitude is a fraction of full scale."""
    if not 0.0 <= amplitude <= 1.0:
        raise ValueError("amplitude must be between 0 and 1")
    peak = amplitude * 32767
    step = 2 * math.pi * frequency_hz / SAMPLE_RATE
    return _to_bytes(array("h", (round(peak * math.sin(step * i)) for i in range(_samples(seconds)))))


def wav_bytes(pcm: bytes, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Wrap PCM16 mono samples in a WAV container."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(SAMPLE_WIDTH)
        writer.setframerate(sample_rate)
        writer.writeframes(pcm)
    return buffer.getvalue()


def mix_timeline(length_seconds: float, spans: list[tuple[float, float]], frequency_hz: float = 440.0) -> bytes:
    """A WAV of length_seconds with a tone inside each (start, end) span and silence elsewhere (e.g. paused spans)."""
    total = _samples(length_seconds)
    pcm = bytearray(total * SAMPLE_WIDTH)
    for start, end in spans:
        first = max(0, _samples(max(0.0, start)))
        last = min(total, _samples(max(0.0, end)))
        if last > first:
            chunk = tone(frequency_hz, (last - first) / SAMPLE_RATE)
            pcm[first * SAMPLE_WIDTH : first * SAMPLE_WIDTH + len(chunk)] = chunk
    return wav_bytes(bytes(pcm))


def pcm_frames(pcm: bytes, frame_ms: int = 20, sample_rate: int = SAMPLE_RATE) -> list[bytes]:
    """Split PCM16 mono into frame_ms frames for media streaming; the last frame is padded with silence."""
    if frame_ms <= 0:
        raise ValueError("frame_ms must be positive")
    size = sample_rate * frame_ms // 1000 * SAMPLE_WIDTH
    frames = [pcm[i : i + size] for i in range(0, len(pcm), size)]
    if frames and len(frames[-1]) < size:
        frames[-1] = frames[-1] + bytes(size - len(frames[-1]))
    return frames
