"""An outbound-call app as ACS's Python quickstart teaches it: Flask, SDK 1.1.0, a connection string.

It calls a phone, asks to confirm or cancel (choices by key or by voice), says the outcome and hangs up. Nothing here
knows about the emulator: point the configuration at it (environment variables below) and trust its certificate
(REQUESTS_CA_BUNDLE), as the README's "Run an existing app" shows.
"""

import os
from logging import INFO

from azure.communication.callautomation import (
    CallAutomationClient,
    CallConnectionClient,
    DtmfTone,
    PhoneNumberIdentifier,
    RecognitionChoice,
    RecognizeInputType,
    TextSource,
)
from azure.core.messaging import CloudEvent
from flask import Flask, Response, request

# Your ACS resource connection string, numbers and public callback host (configuration, not code).
ACS_CONNECTION_STRING = os.environ["ACS_CONNECTION_STRING"]
ACS_PHONE_NUMBER = os.environ["ACS_PHONE_NUMBER"]
TARGET_PHONE_NUMBER = os.environ["TARGET_PHONE_NUMBER"]
CALLBACK_URI_HOST = os.environ["CALLBACK_URI_HOST"]
COGNITIVE_SERVICES_ENDPOINT = os.environ["COGNITIVE_SERVICES_ENDPOINT"]
CALLBACK_EVENTS_URI = CALLBACK_URI_HOST + "/api/callbacks"

SPEECH_TO_TEXT_VOICE = "en-US-NancyNeural"
MAIN_MENU = "Hello, this is Contoso Bank. Please say confirm or press 1 to confirm, or say cancel or press 2 to cancel."
CONFIRMED_TEXT = "Thank you for confirming your appointment tomorrow at 9am, we look forward to meeting with you."
CANCEL_TEXT = "Your appointment tomorrow at 9am has been cancelled. Please call the bank directly to reschedule."
NO_RESPONSE = "I'm sorry, I didn't receive a response, please try again."
CONFIRM_CHOICE_LABEL = "Confirm"
CANCEL_CHOICE_LABEL = "Cancel"

call_automation_client = CallAutomationClient.from_connection_string(ACS_CONNECTION_STRING)
app = Flask(__name__)


def get_choices() -> list[RecognitionChoice]:
    return [
        RecognitionChoice(label=CONFIRM_CHOICE_LABEL, phrases=["Confirm", "First", "One"], tone=DtmfTone.ONE),
        RecognitionChoice(label=CANCEL_CHOICE_LABEL, phrases=["Cancel", "Second", "Two"], tone=DtmfTone.TWO),
    ]


def recognize_choice(
    call_connection_client: CallConnectionClient, text_to_play: str, target: PhoneNumberIdentifier, context: str
) -> None:
    play_source = TextSource(text=text_to_play, voice_name=SPEECH_TO_TEXT_VOICE)
    call_connection_client.start_recognizing_media(
        input_type=RecognizeInputType.CHOICES,
        target_participant=target,
        choices=get_choices(),
        play_prompt=play_source,
        interrupt_prompt=False,
        initial_silence_timeout=10,
        operation_context=context,
    )


def handle_play(call_connection_client: CallConnectionClient, text_to_play: str) -> None:
    call_connection_client.play_media_to_all(TextSource(text=text_to_play, voice_name=SPEECH_TO_TEXT_VOICE))


@app.route("/outboundCall")
def outbound_call_handler() -> Response:
    target_participant = PhoneNumberIdentifier(TARGET_PHONE_NUMBER)
    source_caller = PhoneNumberIdentifier(ACS_PHONE_NUMBER)
    call_connection_properties = call_automation_client.create_call(
        target_participant,
        CALLBACK_EVENTS_URI,
        cognitive_services_endpoint=COGNITIVE_SERVICES_ENDPOINT,
        source_caller_id_number=source_caller,
    )
    app.logger.info("Created call with connection id: %s", call_connection_properties.call_connection_id)
    return Response(call_connection_properties.call_connection_id, status=200)


@app.route("/api/callbacks", methods=["POST"])
def callback_events_handler() -> Response:
    for event_dict in request.json:
        event = CloudEvent.from_dict(event_dict)
        call_connection_id = event.data["callConnectionId"]
        app.logger.info("%s event received for call connection id: %s", event.type, call_connection_id)
        call_connection_client = call_automation_client.get_call_connection(call_connection_id)
        target_participant = PhoneNumberIdentifier(TARGET_PHONE_NUMBER)
        if event.type == "Microsoft.Communication.CallConnected":
            app.logger.info("Starting recognize")
            recognize_choice(call_connection_client, MAIN_MENU, target_participant, "mainmenu")
        elif event.type == "Microsoft.Communication.RecognizeCompleted":
            label_detected = event.data["choiceResult"]["label"]
            phrase_detected = event.data["choiceResult"]["recognizedPhrase"]
            app.logger.info(
                "Recognition completed, labelDetected=%s, phraseDetected=%s", label_detected, phrase_detected
            )
            text_to_play = CONFIRMED_TEXT if label_detected == CONFIRM_CHOICE_LABEL else CANCEL_TEXT
            handle_play(call_connection_client, text_to_play)
        elif event.type == "Microsoft.Communication.RecognizeFailed":
            app.logger.info("Recognition failed: %s", event.data["resultInformation"]["message"])
            handle_play(call_connection_client, NO_RESPONSE)
        elif event.type in ("Microsoft.Communication.PlayCompleted", "Microsoft.Communication.PlayFailed"):
            app.logger.info("Terminating call")
            call_connection_client.hang_up(is_for_everyone=True)
    return Response(status=200)


if __name__ == "__main__":
    app.logger.setLevel(INFO)
    app.run(port=int(os.environ.get("PORT", "8080")))
