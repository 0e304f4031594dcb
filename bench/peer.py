"""The peer baseline: a stateless handler of the kind the ACS quickstarts teach (no state, no JWT check, each event
answered at once with the next action), timed on the same emulator as the app, so the README can state the price of
exactly-once and authentication as a ratio of the same hops.

It places each call itself (CreateCall to a person who answers), then plays the IVR's order-status path with the
app's operation contexts: CallConnected -> greeting + menu, menu choice -> order-number prompt, order number -> status
+ menu. The hops are then read from the emulator's timelines exactly as the app's are (bench/timelines.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from devhost.azurite import free_port
from emulator.scripting import ScriptedCaller

from .localstack import KNOWN_ORDER, ORDER_STATUS_TEXT, BenchStack, caller_number
from .stats import Summary
from .timelines import STEPS, step_latencies

PEER_NUMBER = "+18005550142"  # the caller id the peer dials out with
SPEECH_ENDPOINT = "https://contoso.cognitiveservices.azure.com/"  # text-to-speech prompts need one on the call
GREETING = "Thank you for calling Contoso."
MENU = "For the status of an order, press 1 or say order status."
ORDER_NUMBER = "Please key in your order number, followed by the pound key."


@dataclass
class PeerResult:
    calls: int
    steps: dict[str, Summary]  # the app's hop names, event raised -> first answering action accepted

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "steps_ms": {name: summary.to_dict() for name, summary in self.steps.items()}}


class PeerApp:
    """The quickstart handler on its own thread and event loop, like the dev host runs the app."""

    def __init__(self, acs_endpoint: str, access_key: str) -> None:
        self.acs_endpoint = acs_endpoint
        self.access_key = access_key
        self.port = free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="peer", daemon=True)

    @property
    def callback_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/callbacks"

    def __enter__(self) -> PeerApp:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("the peer baseline did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def place_call(self, to: str) -> str:
        """Dial a person from the peer; returns the call connection id."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(self._place_call(to), self._loop).result(30)

    async def _place_call(self, to: str) -> str:
        from azure.communication.callautomation import PhoneNumberIdentifier

        # Stateless: who to ask travels in the callback URL, as the quickstarts keep their target in a constant.
        callback = f"{self.callback_url}?{urlencode({'caller': to})}"
        created = await self._client.create_call(
            PhoneNumberIdentifier(to),
            callback,
            source_caller_id_number=PhoneNumberIdentifier(PEER_NUMBER),
            cognitive_services_endpoint=SPEECH_ENDPOINT,
        )
        return str(created.call_connection_id)

    def _serve(self) -> None:
        from azure.communication.callautomation.aio import CallAutomationClient
        from azure.core.credentials import AzureKeyCredential

        from shared.transport import client_options

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        # The app's own connection pool, so the ratio prices state and authentication, not HTTP plumbing.
        options = client_options(self.acs_endpoint, use_env_proxies=False)
        self._client = CallAutomationClient(self.acs_endpoint, AzureKeyCredential(self.access_key), **options)
        app = web.Application()
        app.router.add_post("/api/callbacks", self._callbacks)
        runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(self._client.close())
            loop.close()

    async def _callbacks(self, request: web.Request) -> web.Response:
        for event in json.loads(await request.read()):
            await self._on_event(event["type"].rsplit(".", 1)[-1], event["data"], request.query["caller"])
        return web.Response()

    async def _on_event(self, event_type: str, data: dict[str, Any], number: str) -> None:
        from azure.communication.callautomation import PhoneNumberIdentifier, TextSource

        connection = self._client.get_call_connection(data["callConnectionId"])
        caller = PhoneNumberIdentifier(number)
        context = data.get("operationContext") or ""
        if event_type == "CallConnected":
            await connection.play_media(TextSource(text=GREETING), operation_context="greeting")
            await self._ask(connection, caller, MENU, "main-menu", max_tones=1)
        elif event_type == "RecognizeCompleted" and context == "main-menu":
            await self._ask(connection, caller, ORDER_NUMBER, "order-number", max_tones=6)
        elif event_type == "RecognizeCompleted" and context == "order-number":
            status = TextSource(text=f"Order {' '.join(KNOWN_ORDER)} is {ORDER_STATUS_TEXT}.")
            await connection.play_media(status, operation_context="order-status")
            await self._ask(connection, caller, MENU, "main-menu", max_tones=1)

    async def _ask(self, connection: Any, caller: Any, prompt: str, context: str, *, max_tones: int) -> None:
        from azure.communication.callautomation import RecognizeInputType, TextSource

        await connection.start_recognizing_media(
            RecognizeInputType.DTMF,
            caller,
            play_prompt=TextSource(text=prompt),
            operation_context=context,
            dtmf_max_tones_to_collect=max_tones,
            dtmf_stop_tones=["pound"],
        )


def measure_peer(bench: BenchStack, calls: int = 20, call_timeout: float = 15.0) -> PeerResult:
    """`calls` order-status calls, one after another, through the peer handler on the bench's emulator."""
    assert bench.stack.emulator is not None
    emulator = bench.stack.emulator
    per_step: dict[str, list[float]] = {step.name: [] for step in STEPS[1:]}
    with PeerApp(emulator.url, emulator.config.access_key) as peer:
        for index in range(calls + 1):  # the first call warms the peer's client up and is not counted
            person = caller_number(index, block=5)
            connection = peer.place_call(person)
            caller = ScriptedCaller(bench.control, person, timeout=call_timeout).join(connection)
            caller.wait_for_prompt("press 1")
            caller.press("1")
            caller.wait_for_prompt("order number")
            caller.press(KNOWN_ORDER + "#")
            caller.wait_for_prompt(ORDER_STATUS_TEXT)
            caller.wait_for_prompt("press 1")
            caller.hang_up()
            caller.wait_until_ended()
            if index:
                for name, latency in step_latencies(bench.control.timeline(connection)).items():
                    per_step.setdefault(name, []).append(latency)
    return PeerResult(calls=calls, steps={name: Summary.of(values) for name, values in per_step.items()})
