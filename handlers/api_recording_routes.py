"""The HTTP API's recording, streaming and transcription routes (function keys); docs/recording.md has them all."""

from __future__ import annotations

import azure.functions as func

from handlers import api_recordings, api_streaming
from shared import api

blueprint = func.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)

CALL = "calls/{callId}"


@blueprint.route(route=CALL + "/recording", methods=["POST"])
async def api_start_recording(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_recordings.start)


@blueprint.route(route=CALL + "/recording/pause", methods=["POST"])
async def api_pause_recording(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_recordings.pause)


@blueprint.route(route=CALL + "/recording/resume", methods=["POST"])
async def api_resume_recording(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_recordings.resume)


@blueprint.route(route=CALL + "/recording", methods=["DELETE"])
async def api_stop_recording(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_recordings.stop)


@blueprint.route(route=CALL + "/recordings", methods=["GET"])
async def api_list_recordings(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_recordings.list_recordings)


@blueprint.route(route=CALL + "/media-streaming", methods=["POST"])
async def api_start_media_streaming(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_streaming.start_media_streaming)


@blueprint.route(route=CALL + "/media-streaming", methods=["DELETE"])
async def api_stop_media_streaming(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_streaming.stop_media_streaming)


@blueprint.route(route=CALL + "/transcription", methods=["POST"])
async def api_start_transcription(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_streaming.start_transcription)


@blueprint.route(route=CALL + "/transcription", methods=["PATCH"])
async def api_update_transcription(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_streaming.update_transcription)


@blueprint.route(route=CALL + "/transcription", methods=["DELETE"])
async def api_stop_transcription(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_streaming.stop_transcription)


@blueprint.route(route=CALL + "/transcript", methods=["GET"])
async def api_get_transcript(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_streaming.get_transcript)
