"""One way to tell a call's timeline, for the CLI, the demo and the web page: a short line per entry, and what the
callers hear (the text to speak, or the audio file to play)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

PROMPT_OPERATIONS = frozenset({"CallMedia_Play", "CallMedia_Recognize", "CallMedia_Hold"})
# What a prompt request does to whoever hears it, as a verb for the line.
_PROMPT_VERBS = {"CallMedia_Play": "plays", "CallMedia_Recognize": "asks", "CallMedia_Hold": "holds, playing"}
_TAG = re.compile(r"<[^>]+>")
DEFAULT_WIDTH = 9  # the longest kind, "eventgrid"


@dataclass(frozen=True)
class Prompt:
    """One play source: `kind` text, ssml or file; `text` is what to say (SSML without its tags) or the file URL."""

    kind: str
    text: str

    @property
    def spoken(self) -> bool:
        return self.kind in ("text", "ssml")

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


def prompts_of(body: dict[str, Any]) -> list[Prompt]:
    """The play sources of a Play, Recognize or Hold request body, in the order they play."""
    sources = list(body.get("playSources") or []) + list(body.get("playPrompts") or [])
    sources += [single for single in (body.get("playPrompt"), body.get("playSourceInfo")) if single]
    prompts = []
    for source in sources:
        kind = source.get("kind") if isinstance(source, dict) else None
        if kind == "text":
            prompts.append(Prompt("text", str((source.get("text") or {}).get("text", ""))))
        elif kind == "ssml":
            ssml = str((source.get("ssml") or {}).get("ssmlText", ""))
            prompts.append(Prompt("ssml", " ".join(html.unescape(_TAG.sub(" ", ssml)).split())))
        elif kind == "file":
            prompts.append(Prompt("file", str((source.get("file") or {}).get("uri", ""))))
    return prompts


def prompt_texts(body: dict[str, Any]) -> list[str]:
    """What a Play/Recognize/Hold request makes the caller hear: TTS text, SSML's words, or the audio file URL."""
    return [prompt.text for prompt in prompts_of(body)]


def listeners_of(body: dict[str, Any]) -> list[str]:
    """Raw ids a prompt is played to; empty means everyone on the call."""
    targets = [t.get("rawId") for t in body.get("playTo") or [] if isinstance(t, dict)]
    options = body.get("recognizeOptions") or {}
    recognizer = options.get("targetParticipant") or body.get("targetParticipant")
    if isinstance(recognizer, dict):
        targets.append(recognizer.get("rawId"))
    return [target for target in targets if isinstance(target, str)]


def heard_prompts(entry: dict[str, Any]) -> list[Prompt]:
    """The prompts an accepted Play, Recognize or Hold request makes someone hear; none for any other entry."""
    detail = entry.get("detail") or {}
    if entry.get("kind") != "request" or entry.get("summary") not in PROMPT_OPERATIONS:
        return []
    if not isinstance(detail.get("status"), int) or detail["status"] >= 300:
        return []
    return prompts_of(detail.get("body") or {})


def declared_context(operation_context: str | None) -> tuple[str | None, str | None]:
    """("main-menu", "3") from "main-menu/3"; a context without a numeric tag is all declared.

    Apps built on this repository's engine tag each operation context with the claim that issued it
    (shared.engine.split_context, which the emulator cannot import; a test keeps the two readings equal). Lines show
    the context the flow declared, and the tag apart.
    """
    if not operation_context:
        return None, None
    declared, slash, tag = operation_context.rpartition("/")
    return (declared, tag) if slash and tag.isdigit() else (operation_context, None)


def describe(entry: dict[str, Any]) -> str:
    """One entry as a short sentence: `CallMedia_Play -> 202: plays "Thank you..." to 4:+1425...`."""
    kind, summary, detail = entry.get("kind"), str(entry.get("summary", "")), entry.get("detail") or {}
    if kind == "request":
        text = f"{summary} -> {detail.get('status')}" + (" (replayed)" if detail.get("replayed") else "")
        prompts = heard_prompts(entry)
        if prompts:
            listeners = listeners_of(detail.get("body") or {})
            heard = ", ".join(_quoted(prompt) for prompt in prompts)
            text += f": {_PROMPT_VERBS[summary]} {heard} to {', '.join(listeners) or 'everyone'}"
        return text + _context_note(_request_context(detail))
    if kind == "callback":
        return summary + _result_note(detail) + _context_note(detail.get("operationContext"))
    return summary


def line(entry: dict[str, Any], width: int = DEFAULT_WIDTH) -> str:
    """`     3.406s  callback  RecognizeCompleted: keys one [main-menu #3]`."""
    elapsed = f"{float(entry.get('elapsedMs', 0)) / 1000:8.3f}s"
    return f"{elapsed}  {entry.get('kind', '')!s:<{width}} {describe(entry)}".rstrip()


def lines(entries: Iterable[dict[str, Any]], redact: Callable[[str], str] = str) -> str:
    """The whole timeline, one line per entry; `redact` (e.g. the app's phone-number mask) is applied to each."""
    return "\n".join(redact(line(entry)) for entry in entries)


def narrated(entry: dict[str, Any], index: int) -> dict[str, Any]:
    """An entry as the web page shows it: the raw entry, its index, its line and what it makes someone hear."""
    detail = entry.get("detail") or {}
    declared, tag = declared_context(_request_context(detail) or detail.get("operationContext"))
    return {
        **entry,
        "index": index,
        "text": describe(entry),
        "heard": [prompt.to_dict() for prompt in heard_prompts(entry)],
        "listeners": listeners_of(detail.get("body") or {}) if entry.get("kind") == "request" else [],
        "context": declared,
        "claim": tag,
    }


def _quoted(prompt: Prompt) -> str:
    return f'"{prompt.text}"' if prompt.spoken else prompt.text


def _request_context(detail: dict[str, Any]) -> str | None:
    context = (detail.get("body") or {}).get("operationContext")
    return context if isinstance(context, str) else None


def _context_note(operation_context: str | None) -> str:
    declared, tag = declared_context(operation_context)
    if declared is None:
        return ""
    return f" [{declared}]" if tag is None else f" [{declared} #{tag}]"


def _result_note(detail: dict[str, Any]) -> str:
    """What a recognition caught, or why an operation failed: the part of a callback a developer looks for."""
    data = detail.get("data") or {}
    if tones := (data.get("dtmfResult") or {}).get("tones"):
        return f": keys {' '.join(tones)}"
    if choice := data.get("choiceResult"):
        phrase = choice.get("recognizedPhrase")
        return f": chose {choice.get('label')}" + (f' ("{phrase}")' if phrase else "")
    if speech := (data.get("speechResult") or {}).get("speech"):
        return f': heard "{speech}"'
    result = data.get("resultInformation") or {}
    code = result.get("code")
    if isinstance(code, int) and code >= 300:
        return f": {code}/{result.get('subCode')} {result.get('message', '')}".rstrip()
    return ""
