"""The router: by event type, by one attribute, composition, and no-handler no-op."""

import pytest

from shared.routing import Router
from tests.fixtures.fakes import event


async def test_dispatch_by_type_and_operation_context():
    seen = []
    a, b = Router(), Router()

    @a.register("RecognizeCompleted")
    async def any_recognize(e, ctx):
        seen.append(("any", e.operation_context))

    @b.register("RecognizeCompleted", operation_context="main-menu")
    async def menu(e, ctx):
        seen.append(("menu", ctx))

    @b.register("RecognizeCompleted", operation_context="order-number")
    async def order(e, ctx):
        seen.append(("order", ctx))

    await Router(a, b).dispatch(event("recognize_completed_choice"), "ctx")

    assert seen == [("any", "main-menu"), ("menu", "ctx")]


async def test_event_without_handler_is_a_no_op():
    await Router().dispatch(event("call_connected"), None)


def test_only_one_detail_key():
    with pytest.raises(TypeError):
        Router().register("PlayCompleted", operation_context="x", type="y")
