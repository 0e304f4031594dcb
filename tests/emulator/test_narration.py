"""The one timeline formatter the CLI, the demo and the web page share: what each line says, and what is heard."""

import pytest

from emulator import narration
from shared.engine import split_context

CALLER = "4:+14255550123"


def request(operation: str, body: dict, status: int = 202) -> dict:
    return {"kind": "request", "summary": operation, "elapsedMs": 3406.4, "detail": {"status": status, "body": body}}


def test_a_recognize_says_what_the_caller_is_asked_and_the_declared_context() -> None:
    entry = request(
        "CallMedia_Recognize",
        {
            "playPrompts": [{"kind": "text", "text": {"text": "Press 1."}}],
            "recognizeOptions": {"targetParticipant": {"rawId": CALLER}},
            "operationContext": "main-menu/3",
        },
    )
    assert (
        narration.line(entry)
        == f'   3.406s  request   CallMedia_Recognize -> 202: asks "Press 1." to {CALLER} [main-menu #3]'
    )
    assert narration.narrated(entry, 7) | {"detail": None} == {
        **entry,
        "detail": None,
        "index": 7,
        "text": f'CallMedia_Recognize -> 202: asks "Press 1." to {CALLER} [main-menu #3]',
        "heard": [{"kind": "text", "text": "Press 1."}],
        "listeners": [CALLER],
        "context": "main-menu",
        "claim": "3",
    }


def test_ssml_is_heard_as_its_words_and_files_as_their_url() -> None:
    entry = request(
        "CallMedia_Play",
        {
            "playSources": [
                {"kind": "ssml", "ssml": {"ssmlText": "<speak><voice name='x'>Order &amp; more</voice></speak>"}},
                {"kind": "file", "file": {"uri": "https://media.example/hold.wav"}},
            ]
        },
    )
    assert [p.to_dict() for p in narration.heard_prompts(entry)] == [
        {"kind": "ssml", "text": "Order & more"},
        {"kind": "file", "text": "https://media.example/hold.wav"},
    ]
    assert narration.describe(entry) == (
        'CallMedia_Play -> 202: plays "Order & more", https://media.example/hold.wav to everyone'
    )


def test_a_refused_prompt_is_heard_by_nobody() -> None:
    entry = request("CallMedia_Play", {"playSources": [{"kind": "text", "text": {"text": "Hi"}}]}, status=400)
    assert narration.heard_prompts(entry) == []
    assert narration.describe(entry) == "CallMedia_Play -> 400"


@pytest.mark.parametrize(
    ("data", "note"),
    [
        ({"dtmfResult": {"tones": ["one", "pound"]}}, ": keys one pound"),
        ({"choiceResult": {"label": "agent", "recognizedPhrase": "an agent"}}, ': chose agent ("an agent")'),
        ({"speechResult": {"speech": "order status"}}, ': heard "order status"'),
        ({"resultInformation": {"code": 400, "subCode": 8510, "message": "timed out."}}, ": 400/8510 timed out."),
        ({"resultInformation": {"code": 200, "subCode": 0, "message": "ok"}}, ""),
    ],
)
def test_a_callback_says_what_was_recognised_or_why_it_failed(data: dict, note: str) -> None:
    entry = {"kind": "callback", "summary": "RecognizeCompleted", "detail": {"data": data, "operationContext": "menu"}}
    assert narration.describe(entry) == f"RecognizeCompleted{note} [menu]"


@pytest.mark.parametrize("context", ["main-menu/3", "main-menu", "a/b/12", "order/", "/7", "x/1a", None, ""])
def test_declared_contexts_match_the_engines_split(context: str | None) -> None:
    """The emulator cannot import the app; this keeps its reading of "context/claim" the engine's."""
    assert narration.declared_context(context) == split_context(context)


def test_lines_apply_the_redaction_to_every_line() -> None:
    entries = [{"kind": "person", "summary": f"{CALLER} hung up", "elapsedMs": 1000.0}]
    assert narration.lines(entries, redact=lambda text: text.replace("+14255550123", "+1425***0123")) == (
        "   1.000s  person    4:+1425***0123 hung up"
    )
