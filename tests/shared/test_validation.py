"""Identifier and field validation of the HTTP API (finding 6: loose identifiers), from shared/identifiers.py shapes."""

import pytest

from shared.api import ApiRequest, call_id
from shared.errors import BadRequest
from shared.media_urls import MediaUrlPolicy
from shared.validation import Body, phone_number, target


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
    with pytest.raises(BadRequest):
        target(value, "target")


@pytest.mark.parametrize(
    "value",
    ["+14255550101", "4:+14255550101", "8:acs:6d88a1e8-0000-4000-8000-000000000001_agent", "8:acs:res_alice"],
)
def test_real_identifiers_are_accepted(value):
    assert target(value, "target") == value.removeprefix("4:")


def test_phone_numbers_are_ascii_e164_only():
    assert phone_number("+18005550100", "callerId") == "+18005550100"
    with pytest.raises(BadRequest):
        phone_number("+1800555010\uff10", "callerId")


@pytest.mark.parametrize("value", ["..", ".", "-x", "a/b", "call\n", "x" * 129, "", "\u0661"])
def test_call_ids_that_could_steer_the_acs_request_path_are_refused(value):
    with pytest.raises(BadRequest, match="callId must be a call connection id"):
        call_id(ApiRequest(body=Body({}), params={"callId": value}))


def test_text_fields_refuse_control_characters():
    with pytest.raises(BadRequest, match="control characters"):
        Body({"displayName": "Alice\x1b[2J"}).text("displayName")
    assert Body({"text": "line one\nline two"}).text("text") == "line one\nline two"


def test_media_urls_go_through_the_policy():
    policy = MediaUrlPolicy(allowed=("media.example",))
    assert Body({"audioUrl": "https://media.example/a.wav"}).media_url("audioUrl", policy)
    with pytest.raises(BadRequest, match=r"prompts\[0\]\.audioUrl must not carry a user name"):
        Body({"audioUrl": "https://u:p@media.example/a.wav"}, "prompts[0]").media_url("audioUrl", policy)
