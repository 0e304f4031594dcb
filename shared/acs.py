"""The app's interface to ACS Call Automation (Acs) and its one implementation over the SDK (CallAutomation).

Handlers and the engine see only Acs: they hand it actions (shared/actions.py) and small requests, and get back the
app's own result types. Acs itself holds what the app decides around those operations: an outbox is sent in order
while its lease lasts, a call that is gone (404) ends the batch, a recording is paused or resumed before its id is
known by replaying its start, the watchdog's look at a call. CallAutomation turns each operation into one SDK call
(the SDK is imported on first use, so a cold start that answers nothing does not pay for it); unit tests use a fake
Acs that records the operations (tests/fixtures/fakes.py).
"""

from __future__ import annotations

import functools
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypedDict

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from shared.actions import (
    Action,
    AddParticipant,
    CancelAllMedia,
    HangUp,
    PauseRecording,
    Play,
    Prompt,
    Recognize,
    ResumeRecording,
    SendDtmf,
    StartRecording,
)
from shared.logging import mask
from shared.state import Outbox
from shared.streaming import CallStreaming

if TYPE_CHECKING:
    from azure.communication.callautomation import (
        CallParticipant,
        CommunicationIdentifier,
        FileSource,
        MediaStreamingOptions,
        PhoneNumberIdentifier,
        SsmlSource,
        TextSource,
        TranscriptionOptions,
    )
    from azure.communication.callautomation.aio import CallAutomationClient, CallConnectionClient

logger = logging.getLogger(__name__)

# Namespace for Repeatability-Request-IDs: the same call, step and triggering event always give the same id.
REPEATABILITY_NAMESPACE = uuid.UUID("5b0f8a3e-7c1d-4f43-9a57-2f6f4b8e2a10")

# Extra request headers (Repeatability-Request-ID, ...); None: none.
Headers = Mapping[str, str] | None
# Actions sent as they are, with no result.
SimpleAction = Play | Recognize | CancelAllMedia | SendDtmf | HangUp
RecordingChange = Literal["pause", "resume", "stop"]
# The ids an ongoing call or room can be joined by (Connect).
Locator = Literal["server_call_id", "group_call_id", "room_id"]


def repeatability_headers(key: str, first_sent: str) -> dict[str, str]:
    """Headers that let ACS recognise a retried request: a uuid5 of key, and when it was first sent."""
    return {
        "Repeatability-Request-ID": str(uuid.uuid5(REPEATABILITY_NAMESPACE, key)),
        "Repeatability-First-Sent": first_sent,
    }


@dataclass(frozen=True)
class Party:
    """Someone in or around a call: a raw id, and its kind as ACS's REST model spells it ("phoneNumber")."""

    raw_id: str
    kind: str


@dataclass(frozen=True)
class Participant:
    party: Party
    is_muted: bool
    is_on_hold: bool


@dataclass(frozen=True)
class PlacedCall:
    """A call the app placed or joined, as ACS first reports it."""

    call_connection_id: str
    correlation_id: str | None
    state: str


@dataclass(frozen=True)
class CallProperties:
    """A call as ACS reports it now; caller_id is the E.164 number shown to phone participants."""

    call_connection_id: str
    server_call_id: str | None
    correlation_id: str | None
    state: str
    source: Party | None
    caller_id: str | None
    targets: tuple[Party, ...]


@dataclass(frozen=True)
class CallProbe:
    """A call as ACS reports it when the watchdog asks: connection state and the raw ids of everyone present."""

    state: str
    participants: frozenset[str]


@dataclass(frozen=True)
class RecordingNotStarted:
    """The result of a StartRecording that ACS refused: the call goes on unrecorded, and the reason is kept."""

    message: str


ActionResult = str | RecordingNotStarted | None
CALL_ENDED_BEFORE_RECORDING = "The call ended before the recording started."


def not_sent_to_an_ended_call(action: Action) -> ActionResult:
    """The result of an action skipped because its call had ended."""
    return RecordingNotStarted(CALL_ENDED_BEFORE_RECORDING) if isinstance(action, StartRecording) else None


@dataclass(frozen=True, kw_only=True)
class Answer:
    """Answer an incoming call into a flow (the flow's name is the operation context)."""

    incoming_call_context: str
    callback_url: str
    flow: str
    cognitive_services_endpoint: str | None = None
    streaming: CallStreaming | None = None


@dataclass(frozen=True, kw_only=True)
class NewCall:
    """Place a call (CreateCall) into a flow: one target, or several for a group call."""

    targets: tuple[str, ...]
    callback_url: str
    flow: str
    caller_id: str | None = None
    display_name: str | None = None
    cognitive_services_endpoint: str | None = None
    streaming: CallStreaming | None = None


@dataclass(frozen=True, kw_only=True)
class Connect:
    """Join an ongoing call, group call or room (Connect) into a flow."""

    locator: Locator
    locator_id: str
    callback_url: str
    flow: str
    cognitive_services_endpoint: str | None = None
    streaming: CallStreaming | None = None


@dataclass(frozen=True, kw_only=True)
class Transfer:
    """Blind transfer of a 1:1 call to target, or replace `transferee` of a group call by target."""

    target: str
    transferee: str | None = None
    caller_id: str | None = None
    sip_headers: Mapping[str, str] | None = None
    voip_headers: Mapping[str, str] | None = None
    operation_context: str = ""


class Acs(ABC):
    """Everything the app asks of ACS. Subclasses implement the operations; this class decides around them."""

    @abstractmethod
    async def answer(self, request: Answer, headers: Headers) -> str:
        """Answer an incoming call; returns its call connection id."""

    @abstractmethod
    async def redirect(self, incoming_call_context: str, target: str, headers: Headers) -> None: ...

    @abstractmethod
    async def reject(self, incoming_call_context: str, reason: str, headers: Headers) -> None: ...

    @abstractmethod
    async def create_call(self, request: NewCall, headers: Headers) -> PlacedCall: ...

    @abstractmethod
    async def connect_call(self, request: Connect, headers: Headers) -> PlacedCall: ...

    @abstractmethod
    async def call_properties(self, call_connection_id: str) -> CallProperties: ...

    @abstractmethod
    async def participants(self, call_connection_id: str) -> list[Participant]: ...

    @abstractmethod
    async def participant(self, call_connection_id: str, raw_id: str) -> Participant: ...

    @abstractmethod
    async def send(self, call_connection_id: str, action: SimpleAction, headers: Headers) -> None:
        """Play, recognize, cancel media, send DTMF or hang up."""

    @abstractmethod
    async def add_participant(self, call_connection_id: str, action: AddParticipant, headers: Headers) -> str:
        """Invite someone; returns the invitation id (to cancel the add with)."""

    @abstractmethod
    async def cancel_add(
        self, call_connection_id: str, invitation_id: str, operation_context: str, headers: Headers
    ) -> None: ...

    @abstractmethod
    async def remove_participant(
        self, call_connection_id: str, raw_id: str, operation_context: str, headers: Headers
    ) -> None: ...

    @abstractmethod
    async def mute(self, call_connection_id: str, raw_id: str, operation_context: str, headers: Headers) -> None: ...

    @abstractmethod
    async def hold(self, call_connection_id: str, raw_id: str, music: Prompt | None, operation_context: str) -> None:
        """Put someone on hold, with music (looped) if given."""

    @abstractmethod
    async def unhold(self, call_connection_id: str, raw_id: str, operation_context: str) -> None: ...

    @abstractmethod
    async def transfer(self, call_connection_id: str, request: Transfer, headers: Headers) -> str:
        """Transfer; returns ACS's status of the request ("accepted")."""

    @abstractmethod
    async def continuous_dtmf(self, call_connection_id: str, raw_id: str, start: bool, operation_context: str) -> None:
        """Start or stop continuous DTMF recognition for one participant."""

    @abstractmethod
    async def media_streaming(self, call_connection_id: str, start: bool, operation_context: str) -> None: ...

    @abstractmethod
    async def transcription(
        self,
        call_connection_id: str,
        change: Literal["start", "update", "stop"],
        locale: str | None,
        operation_context: str,
    ) -> None: ...

    @abstractmethod
    async def start_recording(self, call_connection_id: str, action: StartRecording) -> str:
        """Start recording; returns the recording id (the same one again for the same request)."""

    @abstractmethod
    async def set_recording(self, recording_id: str, change: RecordingChange) -> None:
        """Pause, resume or stop a recording by its id."""

    async def change_recording(
        self, call_connection_id: str, change: RecordingChange, recording_id: str, start: StartRecording | None
    ) -> str | None:
        """Pause, resume or stop a call's recording; returns its id, None when there is no recording to change.

        Without the id (its RecordingStateChanged has not been seen yet), replaying `start` with its
        Repeatability-Request-ID makes ACS answer with the recording it started for it. A recording that has
        stopped raises ResourceNotFoundError: callers decide what that means to them.
        """
        if not recording_id and start is not None:
            recording_id = await self.start_recording(call_connection_id, start)
        if not recording_id:
            return None
        await self.set_recording(recording_id, change)
        return recording_id

    async def run(
        self, call_connection_id: str, outbox: Outbox, *, clock: Callable[[], datetime]
    ) -> list[ActionResult]:
        """Issue an outbox's actions in order while its lease lasts; returns each action's result (a recording id or
        RecordingNotStarted for StartRecording, else None). A call that is already gone (404) ends the batch quietly; a
        StartRecording it skips is RecordingNotStarted, so the call's note says why nothing was recorded."""
        results: list[ActionResult] = []
        for index, action in enumerate(outbox.actions):
            if not outbox.leased(clock()):
                # Past the lease, the watchdog may already be recovering the step: sending more could repeat it.
                logger.warning(
                    "Lease on call %s ran out; %s and what followed it were not sent", call_connection_id, action.kind
                )
                return results
            key = f"{call_connection_id}/{outbox.claim}/{index}"
            headers = repeatability_headers(key, outbox.first_sent) if action.repeatable else None
            try:
                results.append(await self._issue(call_connection_id, action, headers))
            except ResourceNotFoundError:
                logger.warning("Call %s is gone; skipped %s and what followed it", call_connection_id, action.kind)
                return results + [not_sent_to_an_ended_call(skipped) for skipped in outbox.actions[index:]]
        return results

    async def probe(self, call_connection_id: str) -> CallProbe | None:
        """What ACS says about a call now: its state and who is in it; None if ACS no longer knows the call."""
        try:
            properties = await self.call_properties(call_connection_id)
            participants = await self.participants(call_connection_id)
        except ResourceNotFoundError:
            return None
        if properties.state == "disconnected":
            return None
        return CallProbe(state=properties.state, participants=frozenset(p.party.raw_id for p in participants))

    async def _issue(self, call_connection_id: str, action: object, headers: Headers) -> ActionResult:
        match action:
            case StartRecording():
                try:
                    return await self.start_recording(call_connection_id, action)
                except HttpResponseError as exc:
                    if isinstance(exc, ResourceNotFoundError):
                        raise
                    # The flow goes on unrecorded rather than not at all.
                    logger.error("Could not start recording call %s: %s", call_connection_id, exc.message)
                    return RecordingNotStarted(str(exc.message))
            case PauseRecording() | ResumeRecording():
                change: RecordingChange = "pause" if isinstance(action, PauseRecording) else "resume"
                try:
                    done = await self.change_recording(call_connection_id, change, action.recording_id, action.start)
                except ResourceNotFoundError:
                    # The recording has stopped (the API, or the call ending); the call itself may be fine.
                    logger.warning("Recording of call %s is gone; skipped %s", call_connection_id, action.kind)
                else:
                    if done is None:
                        logger.warning("No recording to %s on call %s", change, call_connection_id)
            case AddParticipant():
                logger.info("Adding participant %s", mask(action.target))
                await self.add_participant(call_connection_id, action, headers)
            case Play() | Recognize() | CancelAllMedia() | SendDtmf() | HangUp():
                await self.send(call_connection_id, action, headers)
            case _:
                raise TypeError(f"unknown action {action!r}")
        return None


def _identifier(raw_id: str) -> CommunicationIdentifier:
    """An SDK identifier from a raw id ("4:+1555...", "8:acs:...") or a bare E.164 number."""
    from azure.communication.callautomation import (
        CommunicationUserIdentifier,
        PhoneNumberIdentifier,
        UnknownIdentifier,
    )

    if raw_id.startswith("+"):
        return PhoneNumberIdentifier(raw_id)
    if raw_id.startswith("4:"):
        return PhoneNumberIdentifier(raw_id[2:])
    if raw_id.startswith("8:acs:"):
        return CommunicationUserIdentifier(raw_id)
    return UnknownIdentifier(raw_id)


def _phone_number(number: str | None) -> PhoneNumberIdentifier | None:
    """A caller id ("+1555..." or "4:+1555...") as the SDK's PhoneNumberIdentifier."""
    from azure.communication.callautomation import PhoneNumberIdentifier

    return PhoneNumberIdentifier(number.removeprefix("4:")) if number else None


def _party(identifier: CommunicationIdentifier) -> Party:
    """The SDK's kind ("phone_number") in the REST model's spelling ("phoneNumber")."""
    first, *rest = str(getattr(identifier.kind, "value", identifier.kind)).split("_")
    return Party(raw_id=identifier.raw_id, kind=first + "".join(word.title() for word in rest))


def _participant(participant: CallParticipant) -> Participant:
    assert participant.identifier is not None
    return Participant(
        party=_party(participant.identifier),
        is_muted=bool(participant.is_muted),
        is_on_hold=bool(participant.is_on_hold),
    )


def _state(value: object) -> str:
    return str(getattr(value, "value", value) or "").lower()


def _source(prompt: Prompt) -> FileSource | TextSource | SsmlSource:
    from azure.communication.callautomation import FileSource, SsmlSource, TextSource

    if prompt.audio_url:
        return FileSource(url=prompt.audio_url)
    if prompt.ssml:
        return SsmlSource(ssml_text=prompt.ssml)
    return TextSource(text=prompt.text or "", voice_name=prompt.voice_name, source_locale=prompt.locale)


def _sources(prompts: Sequence[Prompt]) -> list[FileSource | TextSource | SsmlSource]:
    return [_source(prompt) for prompt in prompts]


def _headers(headers: Headers) -> dict[str, str]:
    # Always a dict: the SDK fills in Repeatability-First-Sent only when `headers` is absent or a dict, never None.
    return dict(headers or {})


class _StreamingArguments(TypedDict):
    media_streaming: MediaStreamingOptions | None
    transcription: TranscriptionOptions | None


def _streaming(streaming: CallStreaming | None) -> _StreamingArguments:
    """The SDK's media streaming and transcription options for a call answered, placed or joined."""
    if streaming is None:
        return {"media_streaming": None, "transcription": None}
    from azure.communication.callautomation import MediaStreamingOptions, TranscriptionOptions

    return {
        # DTMF tones stay off: card digits keyed in the IVR must not leave ACS through the stream.
        "media_streaming": MediaStreamingOptions(
            transport_url=streaming.transport_url,
            transport_type="websocket",
            content_type="audio",
            audio_channel_type=streaming.audio_channel,
            start_media_streaming=streaming.start_media_streaming,
        ),
        "transcription": TranscriptionOptions(
            transport_url=streaming.transport_url,
            transport_type="websocket",
            locale=streaming.locale,
            start_transcription=streaming.start_transcription,
        ),
    }


class CallAutomation(Acs):
    """Acs over an aio CallAutomationClient: each operation is one SDK call."""

    def __init__(self, client: CallAutomationClient) -> None:
        self._client = client

    def _call(self, call_connection_id: str) -> CallConnectionClient:
        return self._client.get_call_connection(call_connection_id)

    async def answer(self, request: Answer, headers: Headers) -> str:
        properties = await self._client.answer_call(
            request.incoming_call_context,
            request.callback_url,
            cognitive_services_endpoint=request.cognitive_services_endpoint,
            operation_context=request.flow,
            **_streaming(request.streaming),
            headers=_headers(headers),
        )
        assert properties.call_connection_id is not None
        return properties.call_connection_id

    async def redirect(self, incoming_call_context: str, target: str, headers: Headers) -> None:
        await self._client.redirect_call(incoming_call_context, _identifier(target), headers=_headers(headers))

    async def reject(self, incoming_call_context: str, reason: str, headers: Headers) -> None:
        await self._client.reject_call(incoming_call_context, call_reject_reason=reason, headers=_headers(headers))

    async def create_call(self, request: NewCall, headers: Headers) -> PlacedCall:
        targets = [_identifier(target) for target in request.targets]
        properties = await self._client.create_call(
            targets[0] if len(targets) == 1 else targets,
            request.callback_url,
            source_caller_id_number=_phone_number(request.caller_id),
            source_display_name=request.display_name,
            operation_context=request.flow,
            cognitive_services_endpoint=request.cognitive_services_endpoint,
            **_streaming(request.streaming),
            headers=_headers(headers),
        )
        return _placed(properties.call_connection_id, properties.correlation_id, properties.call_connection_state)

    async def connect_call(self, request: Connect, headers: Headers) -> PlacedCall:
        connect = functools.partial(
            self._client.connect_call,
            request.callback_url,
            operation_context=request.flow,
            cognitive_services_endpoint=request.cognitive_services_endpoint,
            **_streaming(request.streaming),
            headers=_headers(headers),
        )
        # One call per locator: the SDK declares each as its own overload.
        if request.locator == "server_call_id":
            properties = await connect(server_call_id=request.locator_id)
        elif request.locator == "group_call_id":
            properties = await connect(group_call_id=request.locator_id)
        else:
            properties = await connect(room_id=request.locator_id)
        return _placed(properties.call_connection_id, properties.correlation_id, properties.call_connection_state)

    async def call_properties(self, call_connection_id: str) -> CallProperties:
        properties = await self._call(call_connection_id).get_call_properties()
        caller_id = properties.source_caller_id_number
        return CallProperties(
            call_connection_id=properties.call_connection_id or call_connection_id,
            server_call_id=properties.server_call_id,
            correlation_id=properties.correlation_id,
            state=_state(properties.call_connection_state),
            source=_party(properties.source) if properties.source else None,
            caller_id=caller_id.raw_id.removeprefix("4:") if caller_id else None,
            targets=tuple(_party(target) for target in properties.targets or ()),
        )

    async def participants(self, call_connection_id: str) -> list[Participant]:
        return [_participant(participant) async for participant in self._call(call_connection_id).list_participants()]

    async def participant(self, call_connection_id: str, raw_id: str) -> Participant:
        return _participant(await self._call(call_connection_id).get_participant(_identifier(raw_id)))

    async def send(self, call_connection_id: str, action: SimpleAction, headers: Headers) -> None:
        connection = self._call(call_connection_id)
        match action:
            case Play():
                await connection.play_media(
                    _sources(action.prompts),
                    [_identifier(raw_id) for raw_id in action.to] if action.to else "all",
                    loop=action.loop,
                    operation_context=action.operation_context,
                )
            case Recognize():
                from azure.communication.callautomation import RecognitionChoice

                await connection.start_recognizing_media(
                    action.input_type,
                    _identifier(action.target),
                    play_prompt=_sources(action.prompts),
                    operation_context=action.operation_context,
                    interrupt_prompt=True,
                    initial_silence_timeout=action.initial_silence_timeout,
                    choices=[
                        RecognitionChoice(label=c.label, phrases=list(c.phrases), tone=c.tone) for c in action.choices
                    ]
                    or None,
                    dtmf_max_tones_to_collect=action.max_tones,
                    dtmf_stop_tones=list(action.stop_tones) or None,
                    dtmf_inter_tone_timeout=action.inter_tone_timeout,
                )
            case CancelAllMedia():
                await connection.cancel_all_media_operations()
            case SendDtmf():
                await connection.send_dtmf_tones(
                    list(action.tones),
                    _identifier(action.target),
                    operation_context=action.operation_context,
                    headers=_headers(headers),
                )
            case HangUp():
                await connection.hang_up(action.for_everyone, headers=_headers(headers))

    async def add_participant(self, call_connection_id: str, action: AddParticipant, headers: Headers) -> str:
        result = await self._call(call_connection_id).add_participant(
            _identifier(action.target),
            source_caller_id_number=_phone_number(action.caller_id),
            source_display_name=action.display_name,
            invitation_timeout=action.invitation_timeout,
            operation_context=action.operation_context,
            sip_headers=dict(action.sip_headers) if action.sip_headers else None,
            voip_headers=dict(action.voip_headers) if action.voip_headers else None,
            headers=_headers(headers),
        )
        return result.invitation_id or ""

    async def cancel_add(
        self, call_connection_id: str, invitation_id: str, operation_context: str, headers: Headers
    ) -> None:
        await self._call(call_connection_id).cancel_add_participant_operation(
            invitation_id, operation_context=operation_context, headers=_headers(headers)
        )

    async def remove_participant(
        self, call_connection_id: str, raw_id: str, operation_context: str, headers: Headers
    ) -> None:
        await self._call(call_connection_id).remove_participant(
            _identifier(raw_id), operation_context=operation_context, headers=_headers(headers)
        )

    async def mute(self, call_connection_id: str, raw_id: str, operation_context: str, headers: Headers) -> None:
        await self._call(call_connection_id).mute_participant(
            _identifier(raw_id), operation_context=operation_context, headers=_headers(headers)
        )

    async def hold(self, call_connection_id: str, raw_id: str, music: Prompt | None, operation_context: str) -> None:
        await self._call(call_connection_id).hold(
            _identifier(raw_id), play_source=_source(music) if music else None, operation_context=operation_context
        )

    async def unhold(self, call_connection_id: str, raw_id: str, operation_context: str) -> None:
        await self._call(call_connection_id).unhold(_identifier(raw_id), operation_context=operation_context)

    async def transfer(self, call_connection_id: str, request: Transfer, headers: Headers) -> str:
        result = await self._call(call_connection_id).transfer_call_to_participant(
            _identifier(request.target),
            transferee=_identifier(request.transferee) if request.transferee else None,
            sip_headers=dict(request.sip_headers) if request.sip_headers else None,
            voip_headers=dict(request.voip_headers) if request.voip_headers else None,
            source_caller_id_number=_phone_number(request.caller_id),
            operation_context=request.operation_context,
            headers=_headers(headers),
        )
        return str(getattr(result, "status", None) or "accepted")

    async def continuous_dtmf(self, call_connection_id: str, raw_id: str, start: bool, operation_context: str) -> None:
        connection = self._call(call_connection_id)
        change = connection.start_continuous_dtmf_recognition if start else connection.stop_continuous_dtmf_recognition
        await change(_identifier(raw_id), operation_context=operation_context)

    async def media_streaming(self, call_connection_id: str, start: bool, operation_context: str) -> None:
        connection = self._call(call_connection_id)
        change = connection.start_media_streaming if start else connection.stop_media_streaming
        await change(operation_context=operation_context)

    async def transcription(
        self,
        call_connection_id: str,
        change: Literal["start", "update", "stop"],
        locale: str | None,
        operation_context: str,
    ) -> None:
        connection = self._call(call_connection_id)
        if change == "start":
            await connection.start_transcription(locale=locale, operation_context=operation_context)
        elif change == "update":
            assert locale is not None
            await connection.update_transcription(locale=locale, operation_context=operation_context)
        else:
            await connection.stop_transcription(operation_context=operation_context)

    async def start_recording(self, call_connection_id: str, action: StartRecording) -> str:
        from azure.communication.callautomation import AzureBlobContainerRecordingStorage, ChannelAffinity

        storage = AzureBlobContainerRecordingStorage(action.container_url) if action.container_url else None
        affinity = None
        if action.caller_channel is not None:
            channel, caller = action.caller_channel
            affinity = [ChannelAffinity(target_participant=_identifier(caller), channel=channel)]
        properties = await self._client.start_recording(
            call_connection_id=call_connection_id,
            recording_state_callback_url=action.callback_url,
            recording_content_type=action.content,
            recording_channel_type=action.channel,
            recording_format_type=action.format,
            pause_on_start=action.pause_on_start,
            recording_storage=storage,
            channel_affinity=affinity,
            headers=repeatability_headers(action.repeatability_key, action.first_sent),
        )
        assert properties.recording_id is not None
        return properties.recording_id

    async def set_recording(self, recording_id: str, change: RecordingChange) -> None:
        if change == "pause":
            await self._client.pause_recording(recording_id)
        elif change == "resume":
            await self._client.resume_recording(recording_id)
        else:
            await self._client.stop_recording(recording_id)


def _placed(call_connection_id: str | None, correlation_id: str | None, state: object) -> PlacedCall:
    assert call_connection_id is not None
    return PlacedCall(
        call_connection_id=call_connection_id, correlation_id=correlation_id, state=_state(state) or "connecting"
    )
