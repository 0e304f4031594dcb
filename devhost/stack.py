"""The local stack: Azurite, the ACS emulator and the dev host wired together, for `make run` and the e2e tests."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from devhost.azurite import REPO_ROOT, Azurite, free_port, wait_for_port
from devhost.server import DevHost
from emulator.config import EmulatorConfig
from emulator.faults import FaultPlan
from emulator.server import EmulatorServer
from emulator.tokens import OPENID_PATH
from receiver.config import ReceiverConfig
from receiver.server import ReceiverServer

logger = logging.getLogger(__name__)

INCOMING_CALL_FUNCTION = "incoming_call"
# A timer schedule that does not come round in a test run (once a year); the admin API runs the function on demand.
NEVER = "0 0 0 1 1 *"
RECORDING_FUNCTION = "recording_file_status"


@dataclass
class StackPorts:
    """Fixed ports for people (the sample settings name them); 0 everywhere for tests, which pick free ones."""

    emulator: int = 8765
    devhost: int = 7071
    blob: int = 10000
    queue: int = 10001
    table: int = 10002
    receiver: int = 8766

    @classmethod
    def free(cls) -> StackPorts:
        return cls(emulator=0, devhost=free_port(), blob=0, queue=0, table=0, receiver=0)


@dataclass
class LocalStack:
    """Starts the three services, points the app at them through its environment, and seeds the demo data."""

    ports: StackPorts = field(default_factory=StackPorts)
    time_scale: float = 1.0
    # NCRONTAB for the app's watchdog; None keeps the settings file's. Tests use NEVER and run it when they choose.
    watchdog_schedule: str | None = None
    faults: FaultPlan = field(default_factory=FaultPlan)  # the emulator's fault mode (off by default)
    app_dir: Path = REPO_ROOT
    azurite: Azurite | None = None
    emulator: EmulatorServer | None = None
    devhost: DevHost | None = None
    receiver: ReceiverServer | None = None
    # A fresh shared secret per run: the app puts it in the streaming URL, the receiver checks it.
    receiver_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    _resources: ExitStack = field(default_factory=ExitStack)

    def start(self) -> Self:
        try:
            self._start_azurite()
            self.ports.devhost = self.ports.devhost or free_port()
            config = EmulatorConfig(
                port=self.ports.emulator,
                time_scale=self.time_scale,
                faults=self.faults,
                eventgrid_subscriptions=[f"IncomingCall={self._webhook(INCOMING_CALL_FUNCTION)}"],
            )
            self.emulator = self._resources.enter_context(EmulatorServer(config))
            self._start_receiver()
            os.environ.update(self.app_environment())
            self.devhost = self._resources.enter_context(
                DevHost(self.app_dir, port=self.ports.devhost, settings_file=self._settings_file())
            )
            self._subscribe_optional_functions()
            asyncio.run(_seed())
        except BaseException:
            self.stop()
            raise
        return self

    def _start_azurite(self) -> None:
        if self.ports.table and _listening(self.ports.table) and _listening(self.ports.blob):
            logger.info("Azurite is already running on ports %d-%d; using it", self.ports.blob, self.ports.table)
            self.azurite = Azurite(blob_port=self.ports.blob, queue_port=self.ports.queue, table_port=self.ports.table)
            return
        self.azurite = self._resources.enter_context(
            Azurite(blob_port=self.ports.blob, queue_port=self.ports.queue, table_port=self.ports.table)
        )

    def _start_receiver(self) -> None:
        assert self.azurite
        config = ReceiverConfig(
            port=self.ports.receiver,
            token=self.receiver_token,
            storage_connection_string=self.azurite.connection_string,
        )
        self.receiver = self._resources.enter_context(ReceiverServer(config))

    def _settings_file(self) -> Path:
        local = self.app_dir / "local.settings.json"
        return local if local.exists() else self.app_dir / "local.settings.sample.json"

    def app_environment(self) -> dict[str, str]:
        """What differs from local.settings: where the services of this run actually listen."""
        assert self.emulator and self.azurite and self.receiver
        emulator_config = self.emulator.config
        return {
            "ACS_ENDPOINT": self.emulator.url,
            "ACS_ACCESS_KEY": emulator_config.access_key,
            "ACS_CONNECTION_STRING": "",
            "CALLBACK_BASE_URL": f"http://127.0.0.1:{self.ports.devhost}",
            "CALLBACK_JWT_AUDIENCE": emulator_config.jwt_audience,
            "CALLBACK_JWT_ISSUER": emulator_config.jwt_issuer,
            "CALLBACK_OPENID_CONFIG_URL": self.emulator.url + OPENID_PATH,
            "STORAGE_CONNECTION_STRING": self.azurite.connection_string,
            "AzureWebJobsStorage": self.azurite.connection_string,
            "HOLD_MUSIC_URL": f"{self.emulator.url}/emulator/media/hold-music.wav",
            "MEDIA_URL_ALLOWLIST": f"{self.emulator.url}/emulator/media/",
            "RECORDING_CONTAINER_URL": f"http://127.0.0.1:{self.azurite.blob_port}/devstoreaccount1/recordings",
            "RECEIVER_WEBSOCKET_URL": self.receiver.url,
            "RECEIVER_TOKEN": self.receiver_token,
            # Step deadlines shrink with the emulator's time, so a lost event is recovered as soon as it would be.
            "WATCHDOG_TIME_SCALE": str(min(self.time_scale, 1.0)),
            **({"WATCHDOG_SCHEDULE": self.watchdog_schedule} if self.watchdog_schedule else {}),
        }

    def _webhook(self, function_name: str) -> str:
        return f"http://127.0.0.1:{self.ports.devhost}/runtime/webhooks/eventgrid?functionName={function_name}"

    def _subscribe_optional_functions(self) -> None:
        """Subscribe Event Grid functions the app may or may not define; kept across emulator resets."""
        assert self.emulator and self.devhost
        names = {spec.name for spec in self.devhost.state.functions}
        if RECORDING_FUNCTION in names:
            spec = f"RecordingFileStatusUpdated={self._webhook(RECORDING_FUNCTION)}"
            self.emulator.config.eventgrid_subscriptions.append(spec)
            self.emulator.control.add_subscription(
                self._webhook(RECORDING_FUNCTION), event_types=["RecordingFileStatusUpdated"]
            )

    def stop(self) -> None:
        if self.devhost is not None and self.devhost.app is not None:
            self._close_app_clients(self.devhost)
        self._resources.close()

    def _close_app_clients(self, devhost: DevHost) -> None:
        from shared import clients

        try:
            devhost.run(clients.close())
        except RuntimeError:
            logger.debug("the dev host had already stopped; nothing to close")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def _seed() -> None:
    from shared import seed

    await seed.main()


def _listening(port: int) -> bool:
    try:
        wait_for_port("127.0.0.1", port, timeout=0.2)
    except TimeoutError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devhost.stack",
        description="Run the app locally: Azurite, the ACS emulator and the dev host, then place a demo call.",
    )
    parser.add_argument("--exit-after-demo", action="store_true", help="stop everything once the demo call ended")
    parser.add_argument("--no-demo", action="store_true", help="start the services without placing a demo call")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="emulated time multiplier; 0.1 makes the demo call ten times faster (default 1.0)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    # The Azure SDKs log every HTTP request at INFO; the app's and the hosts' own lines are what a reader wants.
    logging.getLogger("azure").setLevel(logging.WARNING)
    from devhost import demo

    try:
        stack = LocalStack(time_scale=args.time_scale).start()
    except (OSError, TimeoutError, RuntimeError) as error:
        print(f"error: could not start the local stack: {error}", file=sys.stderr)
        return 1
    try:
        print(stack_banner(stack), flush=True)
        if not args.no_demo:
            demo.run(stack)
        if not args.exit_after_demo:
            print(demo.HOW_TO_CALL.format(emulator=stack.emulator.url if stack.emulator else ""), flush=True)
            demo.wait_for_interrupt()
    except TimeoutError as error:
        print(f"error: the demo call did not go as scripted: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    return 0


def stack_banner(stack: LocalStack) -> str:
    assert stack.emulator and stack.devhost and stack.azurite
    return "\n".join([
        "Local stack is up:",
        f"  Azurite        blob :{stack.azurite.blob_port}  queue :{stack.azurite.queue_port}  "
        f"table :{stack.azurite.table_port}",
        f"  ACS emulator   {stack.emulator.url}   (control API: {stack.emulator.url}/emulator/)",
        f"  Function app   {stack.devhost.url}   (callbacks: {stack.devhost.url}/api/callbacks)",
        f"  Receiver       {stack.receiver.url if stack.receiver else '-'}   (media streaming, transcription)",
    ])  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
