"""The app's call logic: one module per flow step or event family, composed into one router."""

from handlers import (
    api_announce,
    api_dtmf_recognition,
    call_ended,
    incoming_call,
    ivr_agent,
    ivr_goodbye,
    ivr_greeting,
    ivr_menu,
    ivr_order_status,
    ivr_payment,
    masking,
    outbound_ivr,
    recording,
    recording_files,
    reminder_call,
    streaming,
    transcription,
)
from shared.routing import Router

router = Router(
    incoming_call.router,
    # Before the flows: a recorded call's recording starts before its flow can reach a step that pauses it.
    recording.router,
    ivr_greeting.router,
    ivr_menu.router,
    ivr_order_status.router,
    ivr_payment.router,
    ivr_agent.router,
    ivr_goodbye.router,
    reminder_call.router,
    outbound_ivr.router,
    masking.router,
    api_announce.router,
    api_dtmf_recognition.router,
    recording_files.router,
    streaming.router,
    transcription.router,
    # Last: flows' own CallDisconnected handlers (reminder_call) must see the event before it ends the call.
    call_ended.router,
)
