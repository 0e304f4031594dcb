"""The appointment reminder (outbound): read the reminder, take confirm / cancel / reschedule by voice or keypad,
store the outcome, say goodbye. POST /api/reminders places the call (handlers/api_reminders.py)."""

from handlers.outbound import DIALLING
from handlers.reminder import call, prompts
from handlers.reminder.prompts import CLOSING, CONFIRMING, HANGING_UP
from shared.engine import ANY_STEP, STEP_OVERDUE, Flow, On, once_connected

FLOW = Flow(
    name=prompts.NAME,
    steps=(DIALLING, CONFIRMING, CLOSING, HANGING_UP),
    transitions=(
        On("CallConnected", DIALLING, call.on_answered),
        On("CreateCallFailed", DIALLING, call.on_not_reached),
        On("RecognizeCompleted", CONFIRMING, call.on_answer, context=CONFIRMING),
        On("RecognizeFailed", CONFIRMING, call.retry_or_give_up, context=CONFIRMING),
        On("PlayCompleted", CLOSING, call.on_closing_played, context=CLOSING),
        On("PlayFailed", CLOSING, call.on_closing_played, context=CLOSING),
        On("CallDisconnected", ANY_STEP, call.on_disconnected),
        # The watchdog, when a step's answer never came (ACS has just confirmed the call is still there).
        On(STEP_OVERDUE, DIALLING, once_connected(call.on_answered)),
        On(STEP_OVERDUE, CONFIRMING, call.retry_or_give_up),
        On(STEP_OVERDUE, (CLOSING, HANGING_UP), call.on_closing_played),
    ),
)
