"""An inbound-call app as ACS's Python live-transcription quickstart teaches it: Quart, SDK 1.4.0 (aio), a
connection string, HTTPS, and a WebSocket that receives the transcription.

It answers IncomingCall (Event Grid, with the validation handshake) with transcription on its own `wss://` host,
records, asks for a key, adds an agent, and ends the call once the agent is in. Nothing here knows about the
emulator: the configuration points at it, SSL_CERT_FILE trusts its certificate, and the emulator trusts this app's
certificate (`--trust-ca`), as the README's "Run an existing app" shows.
"""

import json
import os
import uuid
from urllib.parse import urlencode, urlparse, urlunparse

from azure.communication.callautomation import (
    PhoneNumberIdentifier,
    RecognizeInputType,
    ServerCallLocator,
    StreamingTransportType,
    TextSource,
    TranscriptionOptions,
)
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridEvent, SystemEventNames
from quart import Quart, Response, request, websocket

ACS_CONNECTION_STRING = os.environ["ACS_CONNECTION_STRING"]
COGNITIVE_SERVICE_ENDPOINT = os.environ["COGNITIVE_SERVICE_ENDPOINT"]
CALLBACK_URI_HOST = os.environ["CALLBACK_URI_HOST"]
AGENT_PHONE_NUMBER = os.environ["AGENT_PHONE_NUMBER"]
ACS_PHONE_NUMBER = os.environ["ACS_PHONE_NUMBER"]
CALLBACK_EVENTS_URI = CALLBACK_URI_HOST + "/api/callbacks"
LOCALE = "en-US"
HELP_IVR_PROMPT = "Welcome to the Contoso Utilities. To talk to an agent, press 1."
AGENT_PROMPT = "Connecting you to an agent."

call_automation_client = CallAutomationClient.from_connection_string(ACS_CONNECTION_STRING)
app = Quart(__name__)


@app.route("/api/incomingCall", methods=["POST"])
async def incoming_call_handler() -> Response:
    for event_dict in await request.json:
        event = EventGridEvent.from_dict(event_dict)
        if event.event_type == SystemEventNames.EventGridSubscriptionValidationEventName:
            validation_response = {"validationResponse": event.data["validationCode"]}
            return Response(response=json.dumps(validation_response), status=200)
        if event.event_type == "Microsoft.Communication.IncomingCall":
            if event.data["from"]["kind"] == "phoneNumber":
                caller_id = event.data["from"]["phoneNumber"]["value"]
            else:
                caller_id = event.data["from"]["rawId"]
            incoming_call_context = event.data["incomingCallContext"]
            query_parameters = urlencode({"callerId": caller_id})
            callback_uri = f"{CALLBACK_EVENTS_URI}/{uuid.uuid4()}?{query_parameters}"
            parsed_url = urlparse(CALLBACK_EVENTS_URI)
            websocket_url = urlunparse(("wss", parsed_url.netloc, "/ws", "", "", ""))
            transcription_config = TranscriptionOptions(
                transport_url=websocket_url,
                transport_type=StreamingTransportType.WEBSOCKET,
                locale=LOCALE,
                start_transcription=False,
            )
            answer_call_result = await call_automation_client.answer_call(
                incoming_call_context=incoming_call_context,
                transcription=transcription_config,
                cognitive_services_endpoint=COGNITIVE_SERVICE_ENDPOINT,
                callback_url=callback_uri,
            )
            app.logger.info("Answered call for connection id: %s", answer_call_result.call_connection_id)
    return Response(status=200)


@app.route("/api/callbacks/<context_id>", methods=["POST"])
async def handle_callback(context_id: str) -> Response:
    for event_dict in await request.json:
        event = CloudEvent.from_dict(event_dict)
        call_connection_id = event.data["callConnectionId"]
        caller_id = request.args.get("callerId", "").strip()
        if "+" not in caller_id:
            caller_id = "+" + caller_id
        app.logger.info("Received event %s for call connection id: %s", event.type, call_connection_id)
        call_connection = call_automation_client.get_call_connection(call_connection_id)
        if event.type == "Microsoft.Communication.CallConnected":
            properties = await call_connection.get_call_properties()
            recording = await call_automation_client.start_recording(ServerCallLocator(properties.server_call_id))
            app.logger.info("Recording started: %s", recording.recording_id)
            await call_connection.start_transcription(locale=LOCALE, operation_context="StartTranscript")
            await call_connection.start_recognizing_media(
                input_type=RecognizeInputType.DTMF,
                target_participant=PhoneNumberIdentifier(caller_id),
                play_prompt=TextSource(text=HELP_IVR_PROMPT, voice_name="en-US-NancyNeural"),
                dtmf_max_tones_to_collect=1,
                initial_silence_timeout=15,
                operation_context="mainmenu",
            )
        elif event.type == "Microsoft.Communication.TranscriptionStarted":
            app.logger.info("Transcription started: %s", event.data["transcriptionUpdate"]["transcriptionStatus"])
        elif event.type == "Microsoft.Communication.RecognizeCompleted":
            tones = event.data["dtmfResult"]["tones"]
            app.logger.info("Caller pressed: %s", tones)
            if tones == ["one"]:
                await call_connection.add_participant(
                    PhoneNumberIdentifier(AGENT_PHONE_NUMBER),
                    source_caller_id_number=PhoneNumberIdentifier(ACS_PHONE_NUMBER),
                    operation_context="agent",
                )
        elif event.type == "Microsoft.Communication.AddParticipantSucceeded":
            app.logger.info("Agent joined: %s", event.data["participant"]["rawId"])
            await call_connection.hang_up(is_for_everyone=True)
        elif event.type == "Microsoft.Communication.CallDisconnected":
            app.logger.info("Call ended: %s", call_connection_id)
    return Response(status=200)


@app.websocket("/ws")
async def ws() -> None:
    app.logger.info("WebSocket connected")
    while True:
        message = json.loads(await websocket.receive())
        if message.get("kind") == "TranscriptionData":
            app.logger.info("Transcript: %s", message["transcriptionData"]["text"])


if __name__ == "__main__":
    app.logger.setLevel("INFO")
    app.run(
        host="127.0.0.1",
        port=int(os.environ.get("PORT", "8080")),
        certfile=os.environ["APP_CERT_FILE"],
        keyfile=os.environ["APP_KEY_FILE"],
    )
