"""Call actions as plain, serialisable data: what a handler wants ACS to do, kept in the state's outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar


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
    # Media actions can be cancelled with cancel_all_media_operations.
    is_media: ClassVar[bool] = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True, kw_only=True)
class Play(Action):
    prompts: tuple[Prompt, ...]
    operation_context: str
    loop: bool = False

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
class PauseRecording(Action):
    """Pause a recording, e.g. while the caller keys card digits; pausing a paused recording changes nothing."""

    recording_id: str

    kind: ClassVar[str] = "pause-recording"


@dataclass(frozen=True, kw_only=True)
class ResumeRecording(Action):
    recording_id: str

    kind: ClassVar[str] = "resume-recording"


ACTION_TYPES: dict[str, type[Action]] = {
    cls.kind: cls
    for cls in (Play, Recognize, CancelAllMedia, AddParticipant, HangUp, SendDtmf, PauseRecording, ResumeRecording)
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
        elif isinstance(item, list):
            item = tuple(item)
        arguments[f.name] = item
    return cls(**arguments)
