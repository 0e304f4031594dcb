"""Sample audio the emulator serves at /emulator/media/, so local flows have hold music without hosting files."""

from __future__ import annotations

from functools import cache

from aiohttp import web

from .audio import silence, tone, wav_bytes

routes = web.RouteTableDef()


@cache
def hold_music() -> bytes:
    """Ten seconds of a gentle arpeggio: playable WAV, mono, 16 kHz, 16-bit, as ACS requires."""
    notes = (261.63, 329.63, 392.0, 523.25)
    pcm = b"".join(tone(frequency, 0.45, amplitude=0.15) + silence(0.05) for _ in range(5) for frequency in notes)
    return wav_bytes(pcm)


@cache
def beep() -> bytes:
    return wav_bytes(tone(1000.0, 0.3, amplitude=0.3))


SAMPLES = {"hold-music.wav": hold_music, "beep.wav": beep}


@routes.get("/emulator/media/{name}")
async def sample(request: web.Request) -> web.Response:
    make = SAMPLES.get(request.match_info["name"])
    if make is None:
        raise web.HTTPNotFound(text=f"no sample named {request.match_info['name']}; have: {', '.join(SAMPLES)}")
    return web.Response(body=make(), content_type="audio/wav")
