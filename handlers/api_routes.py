"""The HTTP API's routes (function keys): each function hands its request to one operation; docs/api.md has them all."""

from __future__ import annotations

import azure.functions as func

from handlers import api_calls, api_dtmf_recognition, api_media, api_participants, api_reminders
from shared import api

blueprint = func.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)

CALL = "calls/{callId}"
PARTICIPANT = CALL + "/participants/{participantId}"


@blueprint.route(route="calls", methods=["POST"])
async def api_place_call(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_calls.place_call)


@blueprint.route(route="calls/connect", methods=["POST"])
async def api_connect_call(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_calls.connect_call)


@blueprint.route(route=CALL, methods=["GET"])
async def api_get_call(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_calls.get_call)


@blueprint.route(route=CALL, methods=["DELETE"])
async def api_hang_up(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_calls.hang_up)


@blueprint.route(route=CALL + "/terminate", methods=["POST"])
async def api_terminate(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_calls.terminate)


@blueprint.route(route=CALL + "/transfer", methods=["POST"])
async def api_transfer(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_calls.transfer)


@blueprint.route(route=CALL + "/play", methods=["POST"])
async def api_play(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_media.play)


@blueprint.route(route=CALL + "/cancel-media", methods=["POST"])
async def api_cancel_media(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_media.cancel_media)


@blueprint.route(route=CALL + "/dtmf", methods=["POST"])
async def api_send_dtmf(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_media.send_dtmf)


@blueprint.route(route=CALL + "/participants", methods=["GET"])
async def api_list_participants(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_participants.list_participants)


@blueprint.route(route=CALL + "/participants", methods=["POST"])
async def api_add_participant(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_participants.add_participant)


@blueprint.route(route=CALL + "/invitations/{invitationId}", methods=["DELETE"])
async def api_cancel_add_participant(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_participants.cancel_add)


@blueprint.route(route=PARTICIPANT, methods=["GET"])
async def api_get_participant(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_participants.get_participant)


@blueprint.route(route=PARTICIPANT, methods=["DELETE"])
async def api_remove_participant(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_participants.remove_participant)


@blueprint.route(route=PARTICIPANT + "/mute", methods=["POST"])
async def api_mute(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_participants.mute)


@blueprint.route(route=PARTICIPANT + "/hold", methods=["POST"])
async def api_hold(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_participants.hold)


@blueprint.route(route=PARTICIPANT + "/unhold", methods=["POST"])
async def api_unhold(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_participants.unhold)


@blueprint.route(route=PARTICIPANT + "/dtmf-recognition", methods=["POST"])
async def api_start_dtmf_recognition(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_dtmf_recognition.start)


@blueprint.route(route=PARTICIPANT + "/dtmf-recognition", methods=["DELETE"])
async def api_stop_dtmf_recognition(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_dtmf_recognition.stop)


@blueprint.route(route="reminders", methods=["POST"])
async def api_create_reminder(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_reminders.create_reminder)


@blueprint.route(route="reminders/{id}", methods=["GET"])
async def api_get_reminder(req: func.HttpRequest) -> func.HttpResponse:
    return await api.run(req, api_reminders.get_reminder)
