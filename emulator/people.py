"""Simulated people: how a dialled identity behaves, and people ringing, joining, acting on and leaving calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import calling_events, incoming
from .events import CALL_ENDED_MESSAGE
from .identifiers import Identifier
from .models import Backend, CallConnection, Participant, ServerCall

# "app": the identity is routed to an application (an Event Grid IncomingCall subscription); whichever app answers
# the IncomingCall takes the call, as on the live service, and nobody else picks up.
# "manual": the identity rings until someone answers or declines for them through the control API (the web page's
# agent buttons, `python -m emulator answer`), or the ring timeout.
ANSWERS = ("answer", "decline", "busy", "never", "app", "manual")
# Calls ringing an identity whose behaviour is "manual": (serverCallId, raw id) -> what answering or declining does.
MANUAL_RINGING = "people.manual"
# Raw ids of the users the emulated Identity API created: no simulated client holds their tokens, so a call to one
# of them rings only the apps (unless a behaviour is set for it).
APP_ROUTED_USERS = "identity.users"
Result = tuple[int, int, str]

# The failure a dialler hears when a person does not pick up. ACS documents the subcodes (8538 declined, 8539 busy,
# 8541 unavailable, 8542 canceled) but not their pairing with SIP-like codes; these pairings are the emulator's guess.
REFUSALS: dict[str, Result] = {
    "decline": (603, 8538, "The callee declined the call."),
    "busy": (486, 8539, "The callee is busy."),
    "never": (408, 8541, "The callee did not answer before the invitation timed out."),
}


@dataclass
class Behaviour:
    answer: str = "answer"  # one of ANSWERS
    answer_after_ms: int = 0  # emulated time, so --time-scale applies

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "answerAfterMs": self.answer_after_ms}


def behaviours(backend: Backend) -> dict[str, Behaviour]:
    """Behaviours set through the control API, keyed by raw id; everyone else answers at once."""
    return backend.store("people")


def behaviour_for(backend: Backend, raw_id: str) -> Behaviour:
    return behaviours(backend).get(raw_id, Behaviour())


def routed_to_app(backend: Backend, target: Identifier) -> bool:
    """Whether ringing `target` offers the call to the apps (IncomingCall) instead of a simulated person."""
    configured = behaviours(backend).get(target.raw_id)
    if configured is not None:
        return configured.answer == "app"
    return target.raw_id in backend.store(APP_ROUTED_USERS, set)


@dataclass
class Ringing:
    """One identity being rung on a call; settles once: answered, refused or canceled."""

    call: ServerCall
    participant: Participant
    outcome: str = "ringing"  # ringing | answered | refused | canceled
    on_cancel: Callable[[], None] | None = None  # withdraws the IncomingCall of an identity routed to an app

    def cancel(self) -> bool:
        """Stop ringing before they pick up; False when the ringing already settled."""
        if not self._settle("canceled"):
            return False
        self.call.timeline.add("person", f"{self.participant.identifier.raw_id} stopped ringing (canceled)")
        if self.on_cancel is not None:
            self.on_cancel()
        return True

    def _settle(self, outcome: str) -> bool:
        if self.outcome != "ringing" or self.call.ended:
            return False
        self.outcome = outcome
        if outcome != "answered" and self.call.participants.get(self.participant.identifier.raw_id) is self.participant:
            del self.call.participants[self.participant.identifier.raw_id]
        return True


def ring(
    call: ServerCall,
    target: Identifier,
    *,
    timeout_seconds: float,
    on_answer: Callable[[Participant], None],
    on_refuse: Callable[[Result], None],
    custom_context: dict | None = None,
) -> Ringing:
    """Ring `target` as their behaviour says; exactly one of the callbacks runs unless the ringing is canceled first.

    The answered participant is handed over still `ringing`: the caller decides which events precede their joining.
    """
    behaviour = behaviour_for(call.backend, target.raw_id)
    participant = Participant(target, state="ringing", custom_context=dict(custom_context or {}))
    call.participants[target.raw_id] = participant
    ringing = Ringing(call, participant)
    call.timeline.add(
        "person", f"{target.raw_id} ringing", behaviour=behaviour.to_dict(), timeoutSeconds=timeout_seconds
    )
    after = behaviour.answer_after_ms / 1000

    def answer(who: Participant = participant) -> None:
        if ringing._settle("answered"):
            call.timeline.add("person", f"{target.raw_id} answered")
            on_answer(who)

    def refuse(how: str) -> None:
        if ringing._settle("refused"):
            call.timeline.add("person", f"{target.raw_id} did not answer ({how})")
            on_refuse(REFUSALS[how])

    if routed_to_app(call.backend, target):
        caller = next((p.identifier for p in call.present() if p.is_app), target)
        offered = incoming.offer(
            call, caller, target, custom_context=custom_context, ring_seconds=timeout_seconds,
            on_answer=answer, on_refuse=refuse,
        )  # fmt: skip
        ringing.on_cancel = lambda: offered.take("canceled")
        return ringing
    if behaviour.answer == "manual":
        waiting = call.backend.store(MANUAL_RINGING)
        waiting[call.server_call_id, target.raw_id] = (answer, lambda: refuse("decline"))
        call.backend.later(timeout_seconds, lambda: refuse("never"))
        return ringing
    # One decisive timer per ringing keeps the outcome deterministic even when the delay equals the timeout.
    if behaviour.answer in ("answer", "decline", "busy") and after <= timeout_seconds:
        call.backend.later(after, answer if behaviour.answer == "answer" else lambda: refuse(behaviour.answer))
    else:
        call.backend.later(timeout_seconds, lambda: refuse("never"))
    return ringing


def pick_up(call: ServerCall, raw_id: str, *, answer: bool) -> bool:
    """Answer or decline for a "manual" identity ringing on call; False when it is not ringing there (any more)."""
    pending = call.backend.store(MANUAL_RINGING).pop((call.server_call_id, raw_id), None)
    participant = call.participants.get(raw_id)
    if pending is None or participant is None or participant.state != "ringing":
        return False
    on_answer, on_decline = pending
    if answer:
        on_answer()
    else:
        on_decline()
    return True


def place_call(
    backend: Backend,
    caller: Identifier,
    callee: Identifier,
    *,
    display_name: str = "",
    custom_context: dict | None = None,
) -> incoming.Offer:
    """A simulated person calls `callee` (the app's number or user): they are on the line, the app is offered it."""
    call = backend.new_call()
    call.participants[caller.raw_id] = Participant(
        caller, display_name=display_name, custom_context=dict(custom_context or {})
    )
    call.timeline.add("person", f"{caller.raw_id} calls {callee.raw_id}", customContext=custom_context or {})
    return incoming.offer(
        call,
        caller,
        callee,
        on_refuse=ends_the_call(call, callee),
        display_name=display_name,
        custom_context=custom_context,
    )


def ends_the_call(call: ServerCall, callee: Identifier) -> Callable[[str], None]:
    """An app's refusal of a call offered only to it ends the call: ended by `callee` when rejected, by nobody when
    it rang out."""

    def refused(how: str) -> None:
        end_call(call, ended_by=None if how == "never" else callee)

    return refused


def dial(call: ServerCall, targets: list[Identifier], connection: CallConnection) -> None:
    """Ring the targets of a CreateCall; the first to pick up connects the leg, CreateCallFailed if none does."""
    pending = {target.raw_id for target in targets}

    def answered(participant: Participant) -> None:
        pending.discard(participant.identifier.raw_id)
        if connection.state == "connecting":
            connection.state = "connected"
            connection.emit("CallConnected", operation_context=connection.operation_context)
        join(call, participant)

    def refused(target: Identifier, result: Result) -> None:
        pending.discard(target.raw_id)
        if not pending and connection.state == "connecting":
            connection.emit("CreateCallFailed", operation_context=connection.operation_context, result=result)
            connection.abandon()
            end_call(call)

    for target in targets:
        ring(
            call,
            target,
            timeout_seconds=call.backend.config.ring_timeout_seconds,
            on_answer=answered,
            on_refuse=partial(refused, target),
        )


def join(call: ServerCall, participant: Participant) -> None:
    """`participant` is now in the call: app legs get ParticipantsUpdated, Event Grid hears of it."""
    participant.state = "connected"
    call.had_people = call.had_people or not participant.is_app
    call.participants[participant.identifier.raw_id] = participant
    kind, name = _who(participant)
    call.timeline.add(kind, f"{name} joined")
    calling_events.participant_joined(call, participant)
    call.broadcast_participants()


def leave(call: ServerCall, participant: Participant) -> None:
    """`participant` leaves: a 1:1 call ends with them, a group call goes on until nobody is left."""
    if participant.state == "left" or call.ended:
        return
    was_present = participant.state == "connected"
    participant.state = "left"
    kind, name = _who(participant)
    call.timeline.add(kind, f"{name} left")
    call.backend.notify("on_participant_left", call, participant)
    if was_present:
        calling_events.participant_left(call, participant)
    if is_over(call):
        end_call(call, ended_by=participant.identifier)
    elif was_present:
        call.broadcast_participants()


def _who(participant: Participant) -> tuple[str, str]:
    """Timeline kind and name: people are "person" entries, the app's own legs "emulator" ones."""
    if participant.is_app:
        return "emulator", f"app leg {participant.identifier.raw_id}"
    return "person", participant.identifier.raw_id


def is_over(call: ServerCall) -> bool:
    """A group call lasts while anyone is in it; a 1:1 call ends when one side has nobody left.

    Once the last person has left a call, app legs alone do not keep it going: the service ends it for them (the
    emulator's reading of the docs, see the README's differences). A call between app legs only, which never had a
    person (an app calling a user routed to another app), lasts until one of them leaves.
    """
    present = call.present()
    if not present or (call.had_people and all(p.is_app for p in present)):
        return True
    return not call.is_group and len(present) < 2


def end_call(call: ServerCall, message: str = CALL_ENDED_MESSAGE, ended_by: Identifier | None = None) -> None:
    """End the call for everyone: every app leg gets CallDisconnected, every person leaves."""
    if call.ended:
        return
    call.ended = True
    for participant in call.participants.values():
        if participant.state != "left":
            participant.state = "left"
            call.backend.notify("on_participant_left", call, participant)
    for connection in call.live_connections():
        connection.disconnect(message)
    call.timeline.add("emulator", "call ended")
    calling_events.call_ended(call, ended_by)


def press(call: ServerCall, participant: Participant, tones: list[str]) -> None:
    call.timeline.add("person", f"{participant.identifier.raw_id} pressed {' '.join(tones)}", tones=tones)
    call.backend.notify("on_tones", call, participant, tones)


def say(call: ServerCall, participant: Participant, text: str) -> None:
    call.timeline.add("person", f"{participant.identifier.raw_id} said {text!r}", text=text)
    call.backend.notify("on_speech", call, participant, text)


def hang_up(call: ServerCall, participant: Participant) -> None:
    call.timeline.add("person", f"{participant.identifier.raw_id} hung up")
    leave(call, participant)
