"""Identifier and field validation of the HTTP API (finding 6: loose identifiers), from shared/identifiers.py shapes."""

import pytest

from handlers.api.media import PlayRequest
from shared.api_runtime import validate
from shared.errors import BadRequest
from shared.validation import PATH_PARAMETERS, phone_number, target
from tests.fixtures.fakes import make_context


@pytest.mark.parametrize(
    "value",
    [
        "+14255550101\n",  # `$` matched before a trailing newline
        "+1425555010\uff11",  # `\d` matched a fullwidth digit
        "+1425555010\u0661",  # and an Arabic-Indic one
        "8:acs:../../x",  # `\S+` took any path
        "8:acs:res_user/../../admin",
        "8:acs:",
        "4:+1425\x00",
        "+0123456789",
        "14255550101",
    ],
)
def test_loose_identifiers_are_refused(value):
    with pytest.raises(ValueError, match=r"must be an E\.164 phone number"):
        target(value)


@pytest.mark.parametrize(
    "value",
    ["+14255550101", "4:+14255550101", "8:acs:6d88a1e8-0000-4000-8000-000000000001_agent", "8:acs:res_alice"],
)
def test_real_identifiers_are_accepted(value):
    assert target(value) == value.removeprefix("4:")


def test_phone_numbers_are_ascii_e164_only():
    assert phone_number("+18005550100") == "+18005550100"
    with pytest.raises(ValueError):
        phone_number("+1800555010\uff10")


@pytest.mark.parametrize("value", ["..", ".", "-x", "a/b", "call\n", "x" * 129, "", "\u0661"])
def test_call_ids_that_could_steer_the_acs_request_path_are_refused(value):
    with pytest.raises(ValueError, match=r"^must be a call connection id"):
        PATH_PARAMETERS["callId"].validate(value)


def play(prompt: dict) -> PlayRequest:
    ctx, _, _ = make_context(media_url_allowlist=("media.example",))
    return validate(PlayRequest, {"prompts": [prompt]}, ctx)


def test_text_fields_refuse_control_characters():
    with pytest.raises(BadRequest, match=r"^prompts\[0\]\.text must not contain control characters"):
        play({"text": "Alice\x1b[2J"})
    assert play({"text": "line one\nline two"}).prompts[0].text == "line one\nline two"


def test_media_urls_go_through_the_policy():
    assert play({"audioUrl": "https://media.example/a.wav"}).prompts[0].audio_url == "https://media.example/a.wav"
    with pytest.raises(BadRequest, match=r"^prompts\[0\]\.audioUrl must not carry a user name"):
        play({"audioUrl": "https://u:p@media.example/a.wav"})
