"""The emulator as a load-testing tool: N concurrent calls held at once, and what each costs the emulator.

The emulator runs as its own process (`python -m emulator`), so its CPU time and memory are its own. The benchmark
places N outbound calls through the real aio SDK (people answer at once), with callbacks going to a sink that
answers 200; once every call is connected they are held for a while, then hung up. Reported: whether all N were
connected at once, the emulator's resident memory per call, its CPU per call set up (CreateCall, ringing, answer,
signed callbacks) and its CPU per call per second while the calls are only held.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devhost.azurite import REPO_ROOT, free_port, wait_for_port
from emulator.config import DEFAULT_ACCESS_KEY
from emulator.control_client import EmulatorControl

from .localstack import caller_number
from .stats import process_cpu_seconds, process_rss_mib

APP_NUMBER = "+18005550143"
IN_FLIGHT = 50  # CreateCall requests at once


@dataclass
class EmulatorLoadResult:
    calls: int
    connected_at_once: int
    setup_s: float
    hold_s: float
    rss_idle_mib: float
    rss_loaded_mib: float
    setup_cpu_s: float
    hold_cpu_s: float
    callbacks: int

    @property
    def rss_kib_per_call(self) -> float:
        return round((self.rss_loaded_mib - self.rss_idle_mib) * 1024 / self.calls, 1)

    @property
    def setup_cpu_ms_per_call(self) -> float:
        return round(self.setup_cpu_s * 1000 / self.calls, 2)

    @property
    def hold_cpu_us_per_call_second(self) -> float:
        return round(self.hold_cpu_s * 1e6 / (self.calls * self.hold_s), 2) if self.hold_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "connected_at_once": self.connected_at_once,
            "setup_s": self.setup_s,
            "hold_s": self.hold_s,
            "rss_idle_mib": self.rss_idle_mib,
            "rss_loaded_mib": self.rss_loaded_mib,
            "rss_kib_per_call": self.rss_kib_per_call,
            "setup_cpu_s": self.setup_cpu_s,
            "setup_cpu_ms_per_call": self.setup_cpu_ms_per_call,
            "hold_cpu_s": self.hold_cpu_s,
            "hold_cpu_us_per_call_second": self.hold_cpu_us_per_call_second,
            "callbacks": self.callbacks,
        }


@contextlib.contextmanager
def emulator_process(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m emulator` on port, real time, until the block ends."""
    command = [sys.executable, "-m", "emulator", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603 - our interpreter and module, on a port we chose
        command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def measure_emulator_load(calls: int = 1000, hold_seconds: float = 10.0) -> EmulatorLoadResult:
    port = free_port()
    with emulator_process(port) as process:
        return asyncio.run(_load(process.pid, f"http://127.0.0.1:{port}", calls, hold_seconds))


async def _load(pid: int, url: str, calls: int, hold_seconds: float) -> EmulatorLoadResult:
    from azure.communication.callautomation import PhoneNumberIdentifier
    from azure.communication.callautomation.aio import CallAutomationClient
    from azure.core.credentials import AzureKeyCredential

    from shared.transport import client_options

    control = EmulatorControl(url)
    received = [0]
    sink_port = free_port()
    runner = await _sink(sink_port, received)
    options = client_options(url, use_env_proxies=False)
    client = CallAutomationClient(url, AzureKeyCredential(DEFAULT_ACCESS_KEY), **options)
    try:
        async with client:
            rss_idle, cpu_start = process_rss_mib(pid) or 0.0, process_cpu_seconds(pid) or 0.0
            started = time.monotonic()
            gate = asyncio.Semaphore(IN_FLIGHT)

            async def place(index: int) -> str:
                async with gate:
                    created = await client.create_call(
                        PhoneNumberIdentifier(caller_number(index, block=6)),
                        f"http://127.0.0.1:{sink_port}/callbacks",
                        source_caller_id_number=PhoneNumberIdentifier(APP_NUMBER),
                    )
                    return str(created.call_connection_id)

            connections = await asyncio.gather(*(place(index) for index in range(calls)))
            connected = await asyncio.to_thread(_wait_all_connected, control, calls)
            setup = time.monotonic() - started
            cpu_setup, rss_loaded = process_cpu_seconds(pid) or 0.0, process_rss_mib(pid) or 0.0
            await asyncio.sleep(hold_seconds)  # holding the calls is the measurement
            cpu_held = process_cpu_seconds(pid) or 0.0
            still = sum(1 for call in await asyncio.to_thread(control.calls) if call["state"] == "connected")
            gate = asyncio.Semaphore(IN_FLIGHT)

            async def hang_up(connection: str) -> None:
                async with gate:
                    await client.get_call_connection(connection).hang_up(is_for_everyone=True)

            await asyncio.gather(*(hang_up(connection) for connection in connections))
    finally:
        await runner.cleanup()
    return EmulatorLoadResult(
        calls=calls,
        connected_at_once=min(connected, still),
        setup_s=round(setup, 2),
        hold_s=hold_seconds,
        rss_idle_mib=rss_idle,
        rss_loaded_mib=rss_loaded,
        setup_cpu_s=round(cpu_setup - cpu_start, 2),
        hold_cpu_s=round(cpu_held - cpu_setup, 2),
        callbacks=received[0],
    )


async def _sink(port: int, received: list[int]) -> web.AppRunner:
    """An app that acknowledges every callback and does nothing else."""

    async def acknowledge(request: web.Request) -> web.Response:
        await request.read()
        received[0] += 1
        return web.Response()

    app = web.Application()
    app.router.add_post("/callbacks", acknowledge)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def _wait_all_connected(control: EmulatorControl, calls: int, timeout: float = 120.0) -> int:
    """How many calls are connected once all of them are (or once the timeout has passed)."""
    deadline = time.monotonic() + timeout
    while True:
        connected = sum(1 for call in control.calls() if call["state"] == "connected")
        if connected >= calls or time.monotonic() >= deadline:
            return connected
        time.sleep(0.5)  # the next look at the emulator's call list
