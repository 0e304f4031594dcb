"""Cross-cutting policies, run as middleware around every flow's transition table, outermost first.

The order is the one place where order matters, and why:
1. call_ended: CallDisconnected ends the call whatever the flow decided, and drops any action (the call is gone);
   outermost, so it sees the flow's own CallDisconnected transition (a reminder's outcome) and every note.
2. recording: starts the recording of a recorded flow as the call leaves its first step, after the flow's first
   actions (the greeting is not delayed), and pauses/resumes around the flow's sensitive steps, so it must see
   the flow's transition (it wraps everything below).
3. call_notes and continuous_dtmf: notes on the call's data for events no step waits for (stream and
   transcription status, keys pressed during continuous recognition); they only add data.
Each declares the event types it acts on by itself (Policy.event_types): with the flows' tables, they tell the engine
which events it may ignore without reading the call's state.
"""

from handlers.policies import call_ended, call_notes, continuous_dtmf, recording
from shared.engine import Policy

POLICIES: tuple[Policy, ...] = (call_ended.POLICY, recording.POLICY, call_notes.POLICY, continuous_dtmf.POLICY)
