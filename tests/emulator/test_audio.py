"""WAV validation, speech/SSML durations, and PCM synthesis for playback, recordings and media streaming."""

import io
import itertools
import struct
import wave
from array import array

import pytest

from emulator.audio import (
    InvalidAudio,
    check_playable_wav,
    mix_timeline,
    pcm_frames,
    silence,
    speech_duration,
    ssml_duration,
    ssml_text,
    tone,
    wav_bytes,
)

SSML_NS = 'xmlns="http://www.w3.org/2001/10/synthesis"'


def make_wav(seconds: float = 1.0, rate: int = 16000, channels: int = 1, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(bytes(round(seconds * rate) * channels * width))
    return buffer.getvalue()


def samples(pcm: bytes) -> array:
    return array("h", pcm)


def test_playable_wav_returns_its_duration() -> None:
    assert check_playable_wav(make_wav(2.5)) == pytest.approx(2.5)
    assert check_playable_wav(wav_bytes(tone(440, 0.75))) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("wav", "message"),
    [
        (make_wav(rate=8000), "must be 16000 Hz, is 8000 Hz"),
        (make_wav(channels=2), "must be mono, has 2 channels"),
        (make_wav(width=1), "must be 16-bit, is 8-bit"),
        (make_wav(rate=44100, channels=2), "must be mono, has 2 channels; must be 16000 Hz, is 44100 Hz"),
    ],
)
def test_wrong_format_is_rejected_with_what_is_wrong(wav: bytes, message: str) -> None:
    with pytest.raises(InvalidAudio, match=message) as raised:
        check_playable_wav(wav)
    assert "ACS plays only WAV PCM mono 16 kHz 16-bit" in str(raised.value)


def test_non_pcm_encoding_is_rejected() -> None:
    wav = bytearray(make_wav())
    fmt = wav.index(b"fmt ") + 8
    struct.pack_into("<H", wav, fmt, 3)  # IEEE float
    with pytest.raises(InvalidAudio, match=r"not PCM \(format tag 3\)"):
        check_playable_wav(bytes(wav))


def test_extensible_pcm_wav_is_accepted() -> None:
    pcm = silence(0.5)
    fmt = struct.pack("<HHIIHH", 0xFFFE, 1, 16000, 32000, 2, 16) + struct.pack("<HHI", 22, 16, 4)
    fmt += struct.pack("<H", 1) + bytes(14)  # SubFormat GUID starting with PCM (1)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    assert check_playable_wav(b"RIFF" + struct.pack("<I", len(body)) + body) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(100), "not a WAV file"),
        (b"", "not a WAV file"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no valid 'fmt ' chunk"),
    ],
)
def test_non_wav_data_is_rejected(data: bytes, message: str) -> None:
    with pytest.raises(InvalidAudio, match=message):
        check_playable_wav(data)


def test_wav_without_data_chunk_is_rejected() -> None:
    wav = make_wav()
    truncated = wav[: wav.index(b"data")]
    with pytest.raises(InvalidAudio, match="no 'data' chunk"):
        check_playable_wav(truncated)


def test_invalid_audio_is_a_value_error() -> None:
    assert issubclass(InvalidAudio, ValueError)


def test_speech_duration() -> None:
    assert speech_duration("one two three four five") == pytest.approx(2.0)
    assert speech_duration("one two three", words_per_minute=60) == pytest.approx(3.0)
    assert speech_duration("   ") == 0.0
    with pytest.raises(ValueError):
        speech_duration("hi", words_per_minute=0)


def test_ssml_text_strips_tags() -> None:
    ssml = (
        f'<speak version="1.0" {SSML_NS} xml:lang="en-US"><voice name="en-US-JennyNeural">'
        "Hello <emphasis>there</emphasis>,\n  caller.</voice></speak>"
    )
    assert ssml_text(ssml) == "Hello there, caller."
    with pytest.raises(ValueError, match="invalid SSML"):
        ssml_text("<speak>unclosed")


def test_ssml_duration_includes_breaks() -> None:
    five_words = "one two three four five"
    plain = f"<speak {SSML_NS}><voice name='v'>{five_words}</voice></speak>"
    assert ssml_duration(plain) == pytest.approx(2.0)
    with_breaks = (
        f'<speak {SSML_NS}><voice name="v">one two <break time="500ms"/> three four'
        f' <break time="2s"/> five <break strength="strong"/><break/></voice></speak>'
    )
    assert ssml_duration(with_breaks) == pytest.approx(2.0 + 0.5 + 2.0 + 1.0 + 0.75)
    assert ssml_duration(with_breaks) == pytest.approx(speech_duration(ssml_text(with_breaks)) + 4.25)
    with pytest.raises(ValueError, match="break time"):
        ssml_duration(f'<speak {SSML_NS}><break time="soon"/></speak>')


def test_silence_and_tone_are_pcm16_mono_16khz() -> None:
    assert silence(0.5) == bytes(16000)
    pcm = tone(1000, 0.1, amplitude=0.5)
    assert len(pcm) == 1600 * 2
    values = samples(pcm)
    assert max(values) == pytest.approx(0.5 * 32767, abs=2)
    assert min(values) == pytest.approx(-0.5 * 32767, abs=2)
    # 1 kHz over 0.1 s has 100 periods, so about 200 sign changes.
    changes = sum(1 for a, b in itertools.pairwise(values) if (a < 0) != (b < 0))
    assert 195 <= changes <= 205
    with pytest.raises(ValueError):
        tone(440, 1, amplitude=1.5)


def test_wav_bytes_round_trips() -> None:
    pcm = tone(440, 0.2)
    with wave.open(io.BytesIO(wav_bytes(pcm)), "rb") as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 16000)
        assert reader.readframes(reader.getnframes()) == pcm


def test_mix_timeline_has_audio_only_in_spans() -> None:
    wav = mix_timeline(3.0, [(0.0, 1.0), (2.0, 2.5)])
    assert check_playable_wav(wav) == pytest.approx(3.0)
    with wave.open(io.BytesIO(wav), "rb") as reader:
        values = samples(reader.readframes(reader.getnframes()))

    def loud(start: float, end: float) -> bool:
        return max(abs(v) for v in values[int(start * 16000) : int(end * 16000)]) > 1000

    assert loud(0.0, 1.0)
    assert not loud(1.0, 2.0)
    assert loud(2.0, 2.5)
    assert not loud(2.5, 3.0)


def test_mix_timeline_clips_spans_to_the_length() -> None:
    wav = mix_timeline(1.0, [(-1.0, 0.5), (0.8, 5.0), (2.0, 3.0)])
    assert check_playable_wav(wav) == pytest.approx(1.0)
    assert check_playable_wav(mix_timeline(2.0, [])) == pytest.approx(2.0)


def test_pcm_frames_are_20ms_and_padded() -> None:
    frames = pcm_frames(tone(440, 0.05))  # 800 samples = 2.5 frames of 320
    assert [len(f) for f in frames] == [640, 640, 640]
    assert frames[-1][320:] == bytes(320)
    assert b"".join(frames)[:1600] == tone(440, 0.05)
    assert pcm_frames(b"") == []
    assert [len(f) for f in pcm_frames(silence(0.1), frame_ms=50)] == [1600, 1600]
