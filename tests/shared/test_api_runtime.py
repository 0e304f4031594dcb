"""The HTTP API's plumbing: an operation's signature is checked against its route, and validation errors are worded
as the client wrote the request."""

import pytest

from shared.api import Api, Route
from shared.api_runtime import ApiModel, operation, validate
from shared.context import Context
from shared.errors import BadRequest
from shared.validation import Target

THIS = Api(package="tests.shared", routes=())


class Nested(ApiModel):
    to: Target


async def takes_an_unknown_argument(ctx: Context, call_id: str, colour: str) -> None:
    """Not a route's operation."""


async def ignores_its_route_parameter(ctx: Context) -> None:
    """Not a route's operation."""


async def reads_everything(ctx: Context, call_id: str, body: Nested, idempotency_key: str | None) -> Nested:
    """Everything an operation can ask for."""
    return body


def test_an_operation_asks_only_for_what_its_route_gives():
    with pytest.raises(TypeError, match=r"asks for \['colour'\]"):
        operation(THIS, Route("POST", "calls/{callId}", "test_api_runtime:takes_an_unknown_argument"))
    with pytest.raises(TypeError, match=r"ignores its route parameters \['call_id'\]"):
        operation(THIS, Route("POST", "calls/{callId}", "test_api_runtime:ignores_its_route_parameter"))


def test_an_operation_signature_declares_body_path_key_and_response():
    read = operation(THIS, Route("POST", "calls/{callId}", "test_api_runtime:reads_everything"))

    assert read.body is Nested and read.responses == (Nested,)
    assert read.path == (("callId", "call_id"),) and read.takes_idempotency_key
    assert read.summary == "Everything an operation can ask for."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, 'to must be an E.164 phone number such as +14255550101 or an ACS user id ("8:acs:...")'),
        ({"to": "me"}, 'to must be an E.164 phone number such as +14255550101 or an ACS user id ("8:acs:...")'),
        ("to", "body must be a JSON object"),
    ],
)
def test_a_missing_or_bad_field_is_named_with_what_it_must_be(data, message):
    with pytest.raises(BadRequest) as error:
        validate(Nested, data)

    assert str(error.value) == message


def test_nested_fields_are_named_by_their_path():
    class Outer(ApiModel):
        parties: list[Nested]

    with pytest.raises(BadRequest, match=r"^parties\[1\]\.to must be an E\.164"):
        validate(Outer, {"parties": [{"to": "+14255550101"}, {"to": "x"}]})
    with pytest.raises(BadRequest, match=r"^parties\[0\] must be a JSON object"):
        validate(Outer, {"parties": ["x"]})
