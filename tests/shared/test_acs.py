"""CallAutomation (shared/acs.py) through the real Call Automation SDK: the wire requests and repeatability headers."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.credentials import AzureKeyCredential

from shared.acs import Answer, CallAutomation, NewCall, Transfer, repeatability_headers
from shared.actions import AddParticipant, HangUp, Play, Prompt, Recognize
from shared.state import Outbox
from shared.streaming import CallStreaming

FIRST_SENT = "Thu, 12 Mar 2026 12:00:00 GMT"
PARTICIPANT = {
    "identifier": {"rawId": "4:+14255550141", "kind": "phoneNumber", "phoneNumber": {"value": "+14255550141"}},
    "isMuted": True,
    "isOnHold": False,
}
PROPERTIES = {
    "callConnectionId": "call-1",
    "serverCallId": "server",
    "callConnectionState": "connected",
    "sourceCallerIdNumber": {"value": "+18005550100"},
    "targets": [PARTICIPANT["identifier"]],
}
NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(seconds=30)


@pytest.fixture
async def acs():
    """A dummy ACS that records each request and answers with the status the SDK expects."""
    requests = []

    async def handle(request):
        body = await request.text()
        requests.append((request.method, request.path, dict(request.headers), json.loads(body) if body else None))
        if request.path.endswith(":answer"):
            return web.json_response({"callConnectionId": "call-1", "callConnectionState": "connecting"})
        if request.path.endswith("/callConnections"):
            return web.json_response({"callConnectionId": "call-1", "callConnectionState": "connecting"}, status=201)
        if request.path.endswith("/participants") and request.method == "GET":
            return web.json_response({"value": [PARTICIPANT]})
        if request.path == "/calling/callConnections/call-1" and request.method == "GET":
            return web.json_response(PROPERTIES)
        if request.path.endswith(":terminate") or request.method == "DELETE":
            return web.Response(status=204)
        return web.json_response({}, status=202)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with TestServer(app, host="127.0.0.1") as server:
        client = CallAutomationClient(str(server.make_url("")), AzureKeyCredential("a2V5"))
        yield CallAutomation(client), requests
        await client.close()


async def test_answer_sends_deterministic_repeatability_headers(acs):
    runner, requests = acs
    request = Answer(
        incoming_call_context="ICC",
        callback_url="https://app.example/api/callbacks",
        flow="ivr",
        cognitive_services_endpoint="https://ai.example",
        streaming=CallStreaming(
            transport_url="wss://receiver.example/ws",
            audio_channel="mixed",
            locale="fr-FR",
            start_media_streaming=False,
            start_transcription=True,
        ),
    )
    call_connection_id = await runner.answer(request, repeatability_headers("incoming/server-call/answer", FIRST_SENT))
    [(_, path, headers, body)] = requests
    assert call_connection_id == "call-1" and path == "/calling/callConnections:answer"
    expected = repeatability_headers("incoming/server-call/answer", FIRST_SENT)
    assert headers["Repeatability-Request-ID"] == expected["Repeatability-Request-ID"]
    assert headers["Repeatability-First-Sent"] == FIRST_SENT
    assert body["callIntelligenceOptions"] == {"cognitiveServicesEndpoint": "https://ai.example"}
    assert body["operationContext"] == "ivr"
    media, transcription = body["mediaStreamingOptions"], body["transcriptionOptions"]
    assert media["transportUrl"] == transcription["transportUrl"] == "wss://receiver.example/ws"
    assert media["startMediaStreaming"] is False and "enableDtmfTones" not in media  # card digits never stream
    assert transcription["startTranscription"] is True and transcription["locale"] == "fr-FR"


async def test_actions_map_to_the_documented_requests(acs):
    runner, requests = acs
    actions = (
        Play(prompts=(Prompt(audio_url="https://media.example/hold.wav"),), loop=True, operation_context="hold-music"),
        Recognize(
            input_type="dtmf",
            target="4:+18447649276",
            prompts=(Prompt(text="Key in", voice_name="en-US-JennyNeural"),),
            max_tones=11,
            stop_tones=("pound",),
            operation_context="order-number",
        ),
        AddParticipant(
            target="+18005550123", caller_id="+18005550100", invitation_timeout=30, operation_context="agent"
        ),
        HangUp(for_everyone=True),
    )

    outbox = Outbox(claim="event", tag="1", actions=actions, owner="me", lease_until=LEASE, first_sent=FIRST_SENT)
    await runner.run("call-1", outbox, clock=lambda: NOW)

    play, recognize, add, terminate = requests
    assert play[1] == "/calling/callConnections/call-1:play" and play[3]["playOptions"] == {"loop": True}
    assert recognize[3]["recognizeOptions"]["dtmfOptions"] == {"maxTonesToCollect": 11, "stopTones": ["pound"]}
    assert recognize[3]["recognizeOptions"]["targetParticipant"]["rawId"] == "4:+18447649276"
    assert "Repeatability-Request-ID" not in play[2]  # play has no repeatability; the outbox covers it
    assert add[1].endswith("/participants:add") and add[3]["sourceCallerIdNumber"] == {"value": "+18005550100"}
    assert (
        add[2]["Repeatability-Request-ID"]
        == repeatability_headers("call-1/event/2", FIRST_SENT)["Repeatability-Request-ID"]
    )
    assert terminate[1].endswith(":terminate")
    assert (
        terminate[2]["Repeatability-Request-ID"]
        == repeatability_headers("call-1/event/3", FIRST_SENT)["Repeatability-Request-ID"]
    )


async def test_a_lease_that_runs_out_stops_the_batch_before_the_next_action(acs):
    runner, requests = acs
    clock = iter([NOW, LEASE])  # the lease is live for the first action and over for the second
    actions = (HangUp(for_everyone=False), HangUp(for_everyone=True))
    outbox = Outbox(claim="event", tag="1", actions=actions, owner="me", lease_until=LEASE, first_sent=FIRST_SENT)

    results = await runner.run("call-1", outbox, clock=lambda: next(clock))

    assert results == [None] and [path for _, path, _, _ in requests] == ["/calling/callConnections/call-1"]


async def test_api_requests_become_the_documented_requests_and_answers_the_apps_own_types(acs):
    runner, requests = acs

    placed = await runner.create_call(
        NewCall(targets=("+14255550141", "8:acs:r_u"), callback_url="https://app.example/api/callbacks", flow="api",
                caller_id="+18005550100"),
        {"Repeatability-Request-ID": "00000000-0000-4000-8000-000000000001"},
    )  # fmt: skip
    await runner.transfer("call-1", Transfer(target="+14255550143", sip_headers={"X-MS-Custom-Case": "42"}), None)
    [participant] = await runner.participants("call-1")
    properties = await runner.call_properties("call-1")
    await runner.set_recording("recording-1", "pause")

    create, transfer, _, _, pause = requests
    assert placed.call_connection_id == "call-1" and placed.state == "connecting"
    assert [target["rawId"] for target in create[3]["targets"]] == ["4:+14255550141", "8:acs:r_u"]
    assert create[3]["sourceCallerIdNumber"] == {"value": "+18005550100"}
    assert create[2]["Repeatability-Request-ID"] == "00000000-0000-4000-8000-000000000001"
    assert transfer[1].endswith(":transferToParticipant")
    assert transfer[3]["customCallingContext"]["sipHeaders"] == {"X-MS-Custom-Case": "42"}
    assert (participant.party.raw_id, participant.party.kind, participant.is_muted) == (
        "4:+14255550141",
        "phoneNumber",
        True,
    )
    assert (properties.state, properties.caller_id, properties.targets[0].kind) == (
        "connected",
        "+18005550100",
        "phoneNumber",
    )
    assert pause[1] == "/calling/recordings/recording-1:pause"
