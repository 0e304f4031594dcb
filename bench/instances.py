"""The app as it runs in Azure, scaled out: dev host processes serving function_app.py on one Azurite, behind an
in-process emulator whose delivery spreads callbacks and Event Grid events over them. Used by the chaos and the
capacity benchmarks; each instance's CPU time and memory are read from /proc.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devhost.azurite import REPO_ROOT, Azurite, free_ports, wait_for_port
from devhost.settings import read_local_settings
from devhost.stack import INCOMING_CALL_FUNCTION, app_environment
from emulator.config import EmulatorConfig
from emulator.faults import FaultPlan
from emulator.server import EmulatorServer

from .stats import process_cpu_seconds, process_rss_mib, process_thread_cpu_seconds

RING_SECONDS = 10.0


class AppInstance:
    """One dev host process serving function_app.py: an instance of the scaled-out Function app."""

    def __init__(
        self, name: str, port: int, environment: dict[str, str], log_dir: Path, app_dir: Path = REPO_ROOT
    ) -> None:
        self.name = name
        self.app_dir = app_dir
        self.port = port
        self.environment = environment
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        log = self.log_path.open("ab")
        # No per-invocation lines: in Azure the Functions host writes them, not the Python worker measured here.
        command = [
            sys.executable,
            "-m",
            "devhost",
            "--app-dir",
            str(self.app_dir),
            "--port",
            str(self.port),
            "--no-invocation-log",
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, on a port we chose
            command, env=self.environment, stdout=log, stderr=subprocess.STDOUT, cwd=self.app_dir
        )
        log.close()
        self.starts += 1
        try:
            wait_for_port("127.0.0.1", self.port, timeout=timeout)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{self.name} did not start; see {self.log_path}") from None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no answers to requests in flight, as when a Functions host dies."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the running process has used."""
        assert self.process is not None
        return process_cpu_seconds(self.process.pid) or 0.0

    def thread_cpu_seconds(self) -> dict[str, float]:
        """CPU time per thread name (thread pools summed): the event loop, the default executor, others."""
        assert self.process is not None
        return process_thread_cpu_seconds(self.process.pid)

    def rss_mib(self) -> float:
        assert self.process is not None
        return process_rss_mib(self.process.pid) or 0.0


@dataclass
class AppStack:
    azurite: Azurite
    emulator: EmulatorServer
    instances: list[AppInstance]
    environment: dict[str, str]

    @property
    def control(self) -> Any:
        return self.emulator.control

    def state_table(self) -> Any:
        from azure.data.tables.aio import TableClient

        name = self.environment.get("STATE_TABLE_NAME", "callstate")
        return TableClient.from_connection_string(self.azurite.connection_string, table_name=name)


@contextmanager
def app_stack(
    *,
    instances: int,
    time_scale: float,
    faults: FaultPlan | None = None,
    settings: Mapping[str, str] | None = None,
    azurite: Azurite | None = None,
    app_dir: Path = REPO_ROOT,
) -> Iterator[AppStack]:
    """Azurite (own unless given), the emulator (with faults, if any) delivering to `instances` app instances, which
    run the sample settings plus `settings`, with the demo data seeded. Recording is off: the emulator renders
    recordings in this process, and they are not what these benchmarks measure."""
    with contextlib.ExitStack() as resources:
        if azurite is None:
            azurite = resources.enter_context(Azurite())
        ports = free_ports(instances)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        # Event Grid and ACS know one public URL; the delivery spreads requests over the instances behind it.
        webhook = f"{urls[0]}/runtime/webhooks/eventgrid?functionName={INCOMING_CALL_FUNCTION}"
        config = EmulatorConfig(
            port=0,
            time_scale=time_scale,
            # A call rings (30 s in ACS) for at least RING_SECONDS of real time: the SDK retries an answer ACS
            # refused in real seconds (up to 4.8 s), which a fast time scale would otherwise outlast.
            ring_timeout_seconds=max(30.0, RING_SECONDS / time_scale),
            eventgrid_subscriptions=[f"IncomingCall={webhook}"],
            faults=dataclasses.replace(faults or FaultPlan(), app_instances=tuple(urls)),
        )
        emulator = resources.enter_context(EmulatorServer(config))
        environment = {
            **os.environ,
            # The sample settings, as the dev host would load them, then where this run's services listen.
            **read_local_settings(REPO_ROOT / "local.settings.sample.json").values,
            **app_environment(emulator, azurite, urls[0], time_scale),
            "RECORDING_ENABLED_FLOWS": "",
            **(settings or {}),
        }
        _seed(environment)
        log_dir = Path(resources.enter_context(tempfile.TemporaryDirectory(prefix="app-instances-")))
        apps = [
            AppInstance(f"instance-{index}", port, environment, log_dir, app_dir) for index, port in enumerate(ports)
        ]
        for app in apps:
            resources.callback(app.stop)
            app.start()
        yield AppStack(azurite=azurite, emulator=emulator, instances=apps, environment=environment)


def _seed(environment: dict[str, str]) -> None:
    """The demo routing rules and orders, written with the app's own settings."""
    command = [sys.executable, "-m", "shared.seed"]
    seeded = subprocess.run(command, env=environment, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)  # noqa: S603
    if seeded.returncode != 0:
        raise RuntimeError(f"seeding the demo data failed: {seeded.stderr.strip()[-2000:]}")
