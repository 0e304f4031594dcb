"""Call actions as plain, serialisable data: what a flow wants ACS to do, kept in the call's outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class Prompt:
    """Something to play: an audio file, plain text (TTS) or SSML."""

    text: str | None = None
    ssml: str | None = None
    audio_url: str | None = None
    voice_name: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Choice:
    """A recognize choice: a label the caller can say (phrases) or key in (tone)."""

    label: str
    phrases: tuple[str, ...]
    tone: str | None = None


@dataclass(frozen=True, kw_only=True)
class Action:
    kind: ClassVar[str] = ""
    # Whether ACS honours Repeatability-Request-ID for this action (contract §1.2).
    repeatable: ClassVar[bool] = False
    # Media actions play to or listen to the call; their results arrive as Play*/Recognize* events.
    is_media: ClassVar[bool] = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}

    def tagged(self, tag: str) -> Self:
        """This action with tag appended to its operation context (if it has one), e.g. "main-menu/7".

        The tag names the claim that issued the action, so a result of an older prompt of the same step is told
        apart from the result of the newest one.
        """
        context = getattr(self, "operation_context", None)
        if not context:
            return self
        return replace(self, operation_context=f"{context}/{tag}")  # type: ignore[call-arg]


@dataclass(frozen=True, kw_only=True)
class Play(Action):
    """Play prompts to everyone, or to the raw ids in `to`."""

    prompts: tuple[Prompt, ...]
    operation_context: str
    loop: bool = False
    to: tuple[str, ...] = ()

    kind: ClassVar[str] = "play"
    is_media: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class Recognize(Action):
    """Ask one participant for input: "choices" (speech or keys) or "dtmf"."""

    input_type: str
    target: str
    prompts: tuple[Prompt, ...]
    operation_context: str
    choices: tuple[Choice, ...] = ()
    max_tones: int | None = None
    stop_tones: tuple[str, ...] = ()
    initial_silence_timeout: int | None = None
    inter_tone_timeout: int | None = None

    kind: ClassVar[str] = "recognize"
    is_media: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class CancelAllMedia(Action):
    kind: ClassVar[str] = "cancel-all-media"


@dataclass(frozen=True, kw_only=True)
class AddParticipant(Action):
    target: str
    operation_context: str
    caller_id: str | None = None
    display_name: str | None = None
    invitation_timeout: int | None = None
    # Custom calling context: SIP headers (User-To-User, X-MS-Custom-*) for phone numbers, VoIP headers otherwise.
    sip_headers: Mapping[str, str] | None = None
    voip_headers: Mapping[str, str] | None = None

    kind: ClassVar[str] = "add-participant"
    repeatable: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class HangUp(Action):
    for_everyone: bool = True

    kind: ClassVar[str] = "hang-up"
    repeatable: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class SendDtmf(Action):
    """Send DTMF tones (ACS Tone names, at most 18) to a phone participant, e.g. to navigate an external IVR."""

    target: str
    tones: tuple[str, ...]
    operation_context: str

    kind: ClassVar[str] = "send-dtmf"
    repeatable: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class StartRecording(Action):
    """Start recording the call. It carries its own Repeatability-Request-ID key and first-sent time, so the exact
    request can be replayed later to learn the recording id from ACS (see PauseRecording)."""

    callback_url: str
    repeatability_key: str
    first_sent: str
    content: str = "audio"
    channel: str = "mixed"
    format: str = "wav"
    pause_on_start: bool = False
    container_url: str | None = None
    # (channel, raw id): pin one participant, the caller, to a channel of an unmixed recording.
    caller_channel: tuple[int, str] | None = None

    kind: ClassVar[str] = "start-recording"
    repeatable: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class PauseRecording(Action):
    """Pause a recording, e.g. while the caller keys card digits; pausing a paused recording changes nothing.

    Without a recording_id (its RecordingStateChanged has not been seen yet), `start` is replayed with its
    Repeatability-Request-ID: ACS answers with the recording it started the first time, or starts it now.
    """

    recording_id: str = ""
    start: StartRecording | None = None

    kind: ClassVar[str] = "pause-recording"


@dataclass(frozen=True, kw_only=True)
class ResumeRecording(Action):
    recording_id: str = ""
    start: StartRecording | None = None

    kind: ClassVar[str] = "resume-recording"


ACTION_TYPES: dict[str, type[Action]] = {
    cls.kind: cls
    for cls in (
        Play,
        Recognize,
        CancelAllMedia,
        AddParticipant,
        HangUp,
        SendDtmf,
        StartRecording,
        PauseRecording,
        ResumeRecording,
    )
}


def action_from_dict(value: Mapping[str, Any]) -> Action:
    """Rebuild an action saved with Action.to_dict()."""
    cls = ACTION_TYPES[value["kind"]]
    arguments: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in value:
            continue
        item = value[f.name]
        if f.name == "prompts":
            item = tuple(Prompt(**prompt) for prompt in item)
        elif f.name == "choices":
            item = tuple(Choice(label=c["label"], phrases=tuple(c["phrases"]), tone=c.get("tone")) for c in item)
        elif f.name == "start":
            item = action_from_dict({"kind": StartRecording.kind, **item}) if item else None
        elif isinstance(item, list):
            item = tuple(item)
        arguments[f.name] = item
    return cls(**arguments)
