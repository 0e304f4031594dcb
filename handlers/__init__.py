"""The app's call logic: the flows it runs, the policies around them, and the engine that drives both.

Each flow is one package or module with its transition table (a Flow); each policy one module. Adding a flow is
writing it and listing it here once.
"""

from handlers import ivr, masking, reminder
from handlers.outbound import API, announce, external_ivr
from handlers.policies import POLICIES, recording
from shared.engine import Engine, Flow

FLOWS: tuple[Flow, ...] = (ivr.FLOW, reminder.FLOW, masking.FLOW, external_ivr.FLOW, announce.FLOW, API)

engine = Engine(FLOWS, POLICIES, after_issue=recording.after_issue)
