"""The IVR (inbound self-service): greeting, main menu, order status, pay a bill, an agent, goodbye.

The whole flow at a glance: in this step, on this event (with this operation context), this module decides.
Diagram and prompts: docs/app-flows.md "The IVR".
"""

from handlers.ivr import agent, goodbye, greeting, menu, order_status, payment, recovery, steps
from handlers.ivr.steps import (
    AGENT,
    CARD_NUMBER,
    CONNECTING_AGENT,
    GOODBYE,
    HANGING_UP,
    MAIN_MENU,
    ORDER_NUMBER,
    WITH_AGENT,
)
from shared.engine import STEP_OVERDUE, Flow, On, once_connected
from shared.state import ANSWERING

FLOW = Flow(
    name=steps.NAME,
    steps=steps.STEPS,
    answers_incoming=True,
    sensitive_steps=frozenset({CARD_NUMBER}),
    transitions=(
        On("CallConnected", ANSWERING, greeting.on_call_connected),
        On("RecognizeCompleted", MAIN_MENU, menu.on_choice, context=MAIN_MENU),
        On("RecognizeFailed", MAIN_MENU, menu.on_failed, context=MAIN_MENU),
        On("RecognizeCompleted", ORDER_NUMBER, order_status.on_order_number, context=ORDER_NUMBER),
        On("RecognizeFailed", ORDER_NUMBER, order_status.on_failed, context=ORDER_NUMBER),
        On("RecognizeCompleted", CARD_NUMBER, payment.on_card_number, context=CARD_NUMBER),
        On("RecognizeFailed", CARD_NUMBER, payment.on_failed, context=CARD_NUMBER),
        On("AddParticipantSucceeded", CONNECTING_AGENT, agent.on_joined, context=AGENT),
        On("AddParticipantFailed", CONNECTING_AGENT, agent.on_unavailable, context=AGENT),
        On("ParticipantsUpdated", (CONNECTING_AGENT, WITH_AGENT), agent.on_participants_changed),
        On("PlayCompleted", GOODBYE, goodbye.on_played, context=GOODBYE),
        On("PlayFailed", GOODBYE, goodbye.on_played, context=GOODBYE),
        # The watchdog, when a step's answer never came (ACS has just confirmed the call is still there).
        On(STEP_OVERDUE, ANSWERING, once_connected(greeting.on_call_connected)),
        On(STEP_OVERDUE, (MAIN_MENU, ORDER_NUMBER, CARD_NUMBER), recovery.ask_again),
        On(STEP_OVERDUE, CONNECTING_AGENT, recovery.check_agent),
        On(STEP_OVERDUE, WITH_AGENT, recovery.still_talking),
        On(STEP_OVERDUE, (GOODBYE, HANGING_UP), recovery.hang_up),
    ),
)
