"""Recognize (contract §1.3 row 15, §3.4, §7.3): prompt, then DTMF, speech or a choice, with the documented codes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web

from ..errors import invalid_field, missing_field
from ..events import result_for
from ..models import ServerCall
from ..operations import ApiRequest
from ..validation import optional, optional_int, require, require_enum
from .compatibility import Kind
from .dtmf import parse_tone
from .engine import Heard, Listening, MediaOperation, media_state
from .shared import (
    accepted,
    connected_leg,
    is_group_call,
    operation_callback_uri,
    operation_context,
    participant_in_call,
    require_speech_service,
)
from .sources import PlayFailure, PlaySource, parse_play_source, parse_play_sources, total_duration

INPUTS_HEARD = {
    "dtmf": frozenset({"tone"}),
    "speech": frozenset({"speech"}),
    "speechOrDtmf": frozenset({"tone", "speech"}),
    "choices": frozenset({"tone", "speech"}),
}
DEFAULT_INITIAL_SILENCE_SECONDS = 5
DEFAULT_INTER_TONE_SECONDS = 2
DEFAULT_END_SILENCE_MS = 500
CONFIDENCE = 1.0  # the simulated recognizer hears exactly what the simulated person said

Outcome = tuple[str, tuple[int, int, str], dict[str, Any]]  # event type, resultInformation, extra data


@dataclass(frozen=True)
class Choice:
    label: str
    phrases: tuple[str, ...]
    tone: str | None


@dataclass(frozen=True)
class RecognizeSpec:
    input_type: str
    target: str  # raw id of the participant listened to
    prompts: tuple[PlaySource, ...]
    interrupt_prompt: bool
    initial_silence: float
    inter_tone: float
    max_tones: int | None
    stop_tones: frozenset[str]
    choices: tuple[Choice, ...]
    end_silence: float

    @property
    def needs_speech_service(self) -> bool:
        return self.input_type != "dtmf" or any(p.needs_speech_service for p in self.prompts)


async def recognize(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    body = request.body
    spec = parse_recognize(connection.call, body)
    require_speech_service(connection, spec.needs_speech_service)
    op = MediaOperation(
        kind=Kind.RECOGNIZE_GROUP if is_group_call(connection.call) else Kind.RECOGNIZE, connection=connection,
        body=partial(run_recognize, spec=spec), canceled_event="RecognizeCanceled",
        operation_context=operation_context(body), callback_uri=operation_callback_uri(body),
        targets=frozenset({spec.target}), listening=Listening(spec.target, INPUTS_HEARD[spec.input_type]),
    )  # fmt: skip
    media_state(connection).submit(op, interrupt=optional(body, "interruptCallMediaOperation", bool, False))
    return accepted(connection)


def parse_recognize(call: ServerCall, body: dict) -> RecognizeSpec:
    input_type = require_enum(body, "recognizeInputType", tuple(INPUTS_HEARD))
    options = require(body, "recognizeOptions", dict)
    target = participant_in_call(call, options.get("targetParticipant"), "recognizeOptions.targetParticipant")
    dtmf = optional(options, "recognizeOptions.dtmfOptions", dict, {})
    speech = optional(options, "recognizeOptions.speechOptions", dict, {})
    end_silence_ms = optional_int(
        speech, "recognizeOptions.speechOptions.endSilenceTimeoutInMs", DEFAULT_END_SILENCE_MS, 0, 60_000
    )
    return RecognizeSpec(
        input_type=input_type,
        target=target.identifier.raw_id,
        prompts=tuple(_prompts(body)),
        interrupt_prompt=optional(options, "recognizeOptions.interruptPrompt", bool, False),
        initial_silence=optional_int(options, "recognizeOptions.initialSilenceTimeoutInSeconds",
                                     DEFAULT_INITIAL_SILENCE_SECONDS, 0, 300),
        inter_tone=optional_int(dtmf, "recognizeOptions.dtmfOptions.interToneTimeoutInSeconds",
                                DEFAULT_INTER_TONE_SECONDS, 1, 60),
        max_tones=_max_tones(dtmf, required=input_type == "dtmf"),
        stop_tones=_stop_tones(dtmf),
        choices=_choices(options, required=input_type == "choices"),
        end_silence=end_silence_ms / 1000,
    )  # fmt: skip


def _prompts(body: dict) -> list[PlaySource]:
    several = optional(body, "playPrompts", list)
    if several:
        return parse_play_sources(several, "playPrompts")
    single = body.get("playPrompt")
    return [parse_play_source(single, "playPrompt")] if single is not None else []


def _max_tones(dtmf: dict, *, required: bool) -> int | None:
    path = "recognizeOptions.dtmfOptions.maxTonesToCollect"
    value = optional(dtmf, path, int)
    if value is None and required:
        raise missing_field(path)
    if value is not None and value < 1:
        raise invalid_field(path, "must be at least 1")
    return value


def _stop_tones(dtmf: dict) -> frozenset[str]:
    path = "recognizeOptions.dtmfOptions.stopTones"
    return frozenset(parse_tone(tone, f"{path}[{index}]") for index, tone in enumerate(optional(dtmf, path, list, [])))


def _choices(options: dict, *, required: bool) -> tuple[Choice, ...]:
    if not required:
        return ()
    values = require(options, "recognizeOptions.choices", list)
    return tuple(_choice(value, f"recognizeOptions.choices[{index}]") for index, value in enumerate(values))


def _choice(value: Any, path: str) -> Choice:
    if not isinstance(value, dict):
        raise invalid_field(path, "must be an object")
    phrases = require(value, f"{path}.phrases", list)
    if not all(isinstance(phrase, str) for phrase in phrases):
        raise invalid_field(f"{path}.phrases", "must be an array of strings")
    tone = value.get("tone")
    return Choice(
        require(value, f"{path}.label", str),
        tuple(phrases),
        parse_tone(tone, f"{path}.tone") if tone is not None else None,
    )


async def run_recognize(op: MediaOperation, *, spec: RecognizeSpec) -> None:
    """Play the prompt, listen, and send the one event that ends the recognize."""
    try:
        prompt_seconds = await total_duration(list(spec.prompts), op.connection.backend.callbacks.session)
    except PlayFailure as failure:
        op.emit("RecognizeFailed", result_for("RecognizeFailed", 8511), failedPlaySourceIndex=failure.index)
        return
    event_type, result, data = await _listen(op, spec, prompt_seconds)
    op.emit(event_type, result, **data)


async def _listen(op: MediaOperation, spec: RecognizeSpec, prompt_seconds: float) -> Outcome:
    op.phase = "prompt"
    first = await _during_prompt(op, spec, prompt_seconds)
    op.phase = "listening"
    op.connection.call.timeline.add(
        "emulator",
        f"recognize listening to {spec.target}",
        callConnectionId=op.connection.call_connection_id,
        inputType=spec.input_type,
    )
    if first is None:
        # The initial silence timeout counts from the end of the prompt ("time to wait for first input after prompt").
        first = await _next_input(op, spec.initial_silence)
    if first is None:
        return _failed(8510)
    kind, value = first
    if kind == "speech":
        await op.connection.backend.clock.sleep(spec.end_silence)
    if spec.input_type == "choices":
        return _choice_outcome(spec, kind, value)
    if kind == "speech":
        return _speech_outcome(value)
    return await _collect_tones(op, spec, value)


async def _during_prompt(op: MediaOperation, spec: RecognizeSpec, seconds: float) -> Heard | None:
    """Wait out the prompt; with interruptPrompt the first input stops it and counts, otherwise input is ignored."""
    clock = op.connection.backend.clock
    ends_at = clock.monotonic() + seconds
    while (remaining := ends_at - clock.monotonic()) > 0:
        heard = await _next_input(op, remaining)
        if heard is None:
            return None
        if spec.interrupt_prompt:
            return heard
        kind, value = heard
        op.connection.call.timeline.add(
            "emulator",
            f"{'tone ' + value if kind == 'tone' else repr(value)} from {spec.target} ignored: the prompt is still "
            "playing and is not interruptible (interruptPrompt false)",
            callConnectionId=op.connection.call_connection_id,
        )
    return None


async def _next_input(op: MediaOperation, emulated_seconds: float) -> Heard | None:
    assert op.listening is not None
    try:
        return await op.connection.backend.clock.wait_for(op.listening.inputs.get(), emulated_seconds)
    except TimeoutError:
        return None


async def _collect_tones(op: MediaOperation, spec: RecognizeSpec, first_tone: str) -> Outcome:
    """Collect until max tones (8531), a stop tone (8514, not itself reported) or the inter-tone timeout (8532)."""
    tones: list[str] = []
    heard: Heard | None = ("tone", first_tone)
    while heard is not None:
        kind, tone = heard
        if kind == "tone":  # speech after the first tone is ignored: in speechOrDtmf the first modality wins
            if tone in spec.stop_tones:
                return _completed(8514, recognitionType="dtmf", dtmfResult={"tones": tones})
            tones.append(tone)
            if spec.max_tones is not None and len(tones) >= spec.max_tones:
                return _completed(8531, recognitionType="dtmf", dtmfResult={"tones": tones})
        heard = await _next_input(op, spec.inter_tone)
    # Contract §3.4: the docs disagree; RecognizeCompleted 400/8532 with the tones collected so far is recommended.
    return _completed(8532, recognitionType="dtmf", dtmfResult={"tones": tones})


def _choice_outcome(spec: RecognizeSpec, kind: str, value: str) -> Outcome:
    if kind == "tone":
        by_tone = next((choice for choice in spec.choices if choice.tone == value), None)
        if by_tone is None:
            return _failed(8534)
        # The SDK documents recognizedPhrase as null for a key press: present, and null.
        return _completed(
            8533, recognitionType="choices", choiceResult={"label": by_tone.label, "recognizedPhrase": None}
        )
    said = _normalized(value)
    by_phrase = next((c for c in spec.choices if said in {_normalized(p) for p in c.phrases}), None)
    if by_phrase is None:
        return _failed(8547)
    return _completed(
        8545,
        recognitionType="choices",
        choiceResult={"label": by_phrase.label, "recognizedPhrase": value, "confidence": CONFIDENCE},
    )


def _speech_outcome(text: str) -> Outcome:
    if not text.strip():
        return _failed(8563)
    return _completed(8569, recognitionType="speech", speechResult={"speech": text, "confidence": CONFIDENCE})


def _normalized(phrase: str) -> str:
    return " ".join(phrase.casefold().split()).strip(" .,!?")


def _completed(sub_code: int, **data: Any) -> Outcome:
    return "RecognizeCompleted", result_for("RecognizeCompleted", sub_code), data


def _failed(sub_code: int) -> Outcome:
    return "RecognizeFailed", result_for("RecognizeFailed", sub_code), {}
