"""Translate the app's actions into Call Automation SDK calls, with deterministic repeatability headers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from azure.communication.callautomation import CommunicationIdentifier, FileSource, SsmlSource, TextSource

logger = logging.getLogger(__name__)


def sdk() -> Any:
    """The Call Automation SDK, imported on first use: a cold start that answers nothing need not pay for it."""
    import azure.communication.callautomation

    return azure.communication.callautomation


# Namespace for Repeatability-Request-IDs: the same call, step and triggering event always give the same id.
REPEATABILITY_NAMESPACE = uuid.UUID("5b0f8a3e-7c1d-4f43-9a57-2f6f4b8e2a10")


def repeatability_headers(key: str, first_sent: str) -> dict[str, str]:
    """Headers that let ACS recognise a retried request: a uuid5 of key, and when it was first sent."""
    return {
        "Repeatability-Request-ID": str(uuid.uuid5(REPEATABILITY_NAMESPACE, key)),
        "Repeatability-First-Sent": first_sent,
    }


def identifier(raw_id: str) -> CommunicationIdentifier:
    """An SDK identifier from a raw id ("4:+1555...", "8:acs:...") or a bare E.164 number."""
    if raw_id.startswith("+"):
        return sdk().PhoneNumberIdentifier(raw_id)
    if raw_id.startswith("4:"):
        return sdk().PhoneNumberIdentifier(raw_id[2:])
    if raw_id.startswith("8:acs:"):
        return sdk().CommunicationUserIdentifier(raw_id)
    return sdk().UnknownIdentifier(raw_id)


def _with_headers(headers: dict[str, str] | None) -> dict[str, Any]:
    # The SDK fills in Repeatability-First-Sent only when `headers` is absent or a dict, never None.
    return {"headers": headers} if headers else {}


def play_source(prompt: Prompt) -> FileSource | TextSource | SsmlSource:
    if prompt.audio_url:
        return sdk().FileSource(url=prompt.audio_url)
    if prompt.ssml:
        return sdk().SsmlSource(ssml_text=prompt.ssml)
    return sdk().TextSource(text=prompt.text or "", voice_name=prompt.voice_name, source_locale=prompt.locale)


def _sources(prompts: Sequence[Prompt]) -> list[FileSource | TextSource | SsmlSource]:
    return [play_source(prompt) for prompt in prompts]


@dataclass(frozen=True)
class RecordingNotStarted:
    """The result of a StartRecording that ACS refused: the call goes on unrecorded, and the reason is kept."""

    message: str


ActionResult = str | RecordingNotStarted | None


@dataclass(frozen=True)
class CallProbe:
    """A call as ACS reports it when the watchdog asks: connection state and the raw ids of everyone present."""

    state: str
    participants: frozenset[str]


CallOptions = Callable[[str], Mapping[str, Any]]


def no_call_options(flow: str) -> Mapping[str, Any]:
    return {}


class ActionRunner:
    """Runs actions against an aio CallAutomationClient (or anything with the same interface).

    call_options gives the extra SDK arguments a flow's calls are answered with (media streaming, transcription).
    """

    def __init__(self, client: Any, call_options: CallOptions = no_call_options) -> None:
        self.client = client
        self.call_options = call_options

    async def answer(
        self,
        *,
        incoming_call_context: str,
        callback_url: str,
        operation_context: str,
        cognitive_services_endpoint: str | None,
        repeatability_key: str,
        first_sent: str,
    ) -> str:
        """Answer a call; returns its call connection id."""
        properties = await self.client.answer_call(
            incoming_call_context,
            callback_url,
            cognitive_services_endpoint=cognitive_services_endpoint,
            operation_context=operation_context,
            headers=repeatability_headers(repeatability_key, first_sent),
            # A call is answered with its flow's name as operation context.
            **self.call_options(operation_context),
        )
        return properties.call_connection_id

    async def start_recording(self, action: StartRecording, call_connection_id: str) -> str:
        """Start recording a call; returns the recording id (the same one again for the same request)."""
        storage = sdk().AzureBlobContainerRecordingStorage(action.container_url) if action.container_url else None
        affinity = None
        if action.caller_channel is not None:
            channel, caller = action.caller_channel
            affinity = [sdk().ChannelAffinity(target_participant=identifier(caller), channel=channel)]
        properties = await self.client.start_recording(
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
        return properties.recording_id

    async def redirect(
        self, *, incoming_call_context: str, target: str, repeatability_key: str, first_sent: str
    ) -> None:
        await self.client.redirect_call(
            incoming_call_context, identifier(target), headers=repeatability_headers(repeatability_key, first_sent)
        )

    async def reject(self, *, incoming_call_context: str, reason: str, repeatability_key: str, first_sent: str) -> None:
        await self.client.reject_call(
            incoming_call_context,
            call_reject_reason=reason,
            headers=repeatability_headers(repeatability_key, first_sent),
        )

    async def run(
        self, call_connection_id: str, outbox: Outbox, *, clock: Callable[[], datetime]
    ) -> list[ActionResult]:
        """Issue an outbox's actions in order while its lease lasts; returns each action's result (a recording id or
        RecordingNotStarted for StartRecording, else None). A call that is already gone (404) ends the batch quietly."""
        connection = self.client.get_call_connection(call_connection_id)
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
                results.append(await self._issue(call_connection_id, connection, action, headers))
            except ResourceNotFoundError:
                logger.warning("Call %s is gone; skipped %s and what followed it", call_connection_id, action.kind)
                return results
        return results

    async def probe(self, call_connection_id: str) -> CallProbe | None:
        """What ACS says about a call now: its state and who is in it; None if ACS no longer knows the call."""
        connection = self.client.get_call_connection(call_connection_id)
        try:
            properties = await connection.get_call_properties()
            participants = {participant.identifier.raw_id async for participant in connection.list_participants()}
        except ResourceNotFoundError:
            return None
        connection_state = properties.call_connection_state
        state = str(getattr(connection_state, "value", connection_state) or "").lower()
        if state == "disconnected":
            return None
        return CallProbe(state=state, participants=frozenset(participants))

    async def _issue(
        self, call_connection_id: str, connection: Any, action: Action, headers: dict[str, str] | None
    ) -> ActionResult:
        match action:
            case Play():
                await connection.play_media(
                    _sources(action.prompts), loop=action.loop, operation_context=action.operation_context
                )
            case Recognize():
                await connection.start_recognizing_media(
                    action.input_type,
                    identifier(action.target),
                    play_prompt=_sources(action.prompts),
                    operation_context=action.operation_context,
                    interrupt_prompt=True,
                    initial_silence_timeout=action.initial_silence_timeout,
                    choices=[
                        sdk().RecognitionChoice(label=c.label, phrases=list(c.phrases), tone=c.tone)
                        for c in action.choices
                    ]
                    or None,
                    dtmf_max_tones_to_collect=action.max_tones,
                    dtmf_stop_tones=list(action.stop_tones) or None,
                    dtmf_inter_tone_timeout=action.inter_tone_timeout,
                )
            case CancelAllMedia():
                await connection.cancel_all_media_operations()
            case AddParticipant():
                logger.info("Adding participant %s", mask(action.target))
                await connection.add_participant(
                    identifier(action.target),
                    source_caller_id_number=sdk().PhoneNumberIdentifier(action.caller_id) if action.caller_id else None,
                    invitation_timeout=action.invitation_timeout,
                    operation_context=action.operation_context,
                    sip_headers=action.sip_headers,
                    voip_headers=action.voip_headers,
                    **_with_headers(headers),
                )
            case SendDtmf():
                await connection.send_dtmf_tones(
                    list(action.tones),
                    identifier(action.target),
                    operation_context=action.operation_context,
                    **_with_headers(headers),
                )
            case StartRecording():
                try:
                    return await self.start_recording(action, call_connection_id)
                except HttpResponseError as exc:
                    if isinstance(exc, ResourceNotFoundError):
                        raise
                    # The flow goes on unrecorded rather than not at all.
                    logger.error("Could not start recording call %s: %s", call_connection_id, exc.message)
                    return RecordingNotStarted(str(exc.message))
            case PauseRecording() | ResumeRecording():
                await self._change_recording(action, call_connection_id)
            case HangUp():
                await connection.hang_up(action.for_everyone, **_with_headers(headers))
            case _:
                raise TypeError(f"unknown action {action!r}")
        return None

    async def _change_recording(self, action: PauseRecording | ResumeRecording, call_connection_id: str) -> None:
        change = self.client.pause_recording if isinstance(action, PauseRecording) else self.client.resume_recording
        recording_id = action.recording_id
        if not recording_id and action.start is not None:
            # The same StartRecording request again: ACS answers with the recording it started for it.
            recording_id = await self.start_recording(action.start, call_connection_id)
        if not recording_id:
            logger.warning("No recording to %s on call %s", action.kind, call_connection_id)
            return
        try:
            await change(recording_id)
        except ResourceNotFoundError:
            # The recording has stopped (the API, or the call ending); the call itself may be fine, so carry on.
            logger.warning("Recording %s is gone; skipped %s", recording_id, action.kind)
