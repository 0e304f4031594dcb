"""The local stack: Azurite, the ACS emulator and the dev host wired together, for `make run` and the e2e tests."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import sys
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from devhost.azurite import REPO_ROOT, Azurite, free_port, wait_for_port
from devhost.ports import PortInUse, PortNeed, check_free, holder_of
from devhost.server import INVOCATION_LOGGER, DevHost
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
            devhost = DevHost(self.app_dir, port=self.ports.devhost, settings_file=self._settings_file())
            devhost.on_stopped.append(_close_app_clients)
            self.devhost = self._resources.enter_context(devhost)
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
        return {
            **app_environment(self.emulator, self.azurite, f"http://127.0.0.1:{self.ports.devhost}", self.time_scale),
            "RECEIVER_WEBSOCKET_URL": self.receiver.url,
            "RECEIVER_TOKEN": self.receiver_token,
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
        """Stop in reverse order: the dev host first (its in-flight invocations finish against live services)."""
        self._resources.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def app_environment(emulator: EmulatorServer, azurite: Azurite, base_url: str, time_scale: float) -> dict[str, str]:
    """The app's settings for a local run on these services, with callbacks to base_url (the app's public URL)."""
    emulator_config = emulator.config
    return {
        "ACS_ENDPOINT": emulator.url,
        "ACS_ACCESS_KEY": emulator_config.access_key,
        "ACS_CONNECTION_STRING": "",
        "CALLBACK_BASE_URL": base_url,
        "CALLBACK_JWT_AUDIENCE": emulator_config.jwt_audience,
        "CALLBACK_JWT_ISSUER": emulator_config.jwt_issuer,
        "CALLBACK_OPENID_CONFIG_URL": emulator.url + OPENID_PATH,
        "STORAGE_CONNECTION_STRING": azurite.connection_string,
        "AzureWebJobsStorage": azurite.connection_string,
        "HOLD_MUSIC_URL": f"{emulator.url}/emulator/media/hold-music.wav",
        "MEDIA_URL_ALLOWLIST": f"{emulator.url}/emulator/media/",
        "RECORDING_CONTAINER_URL": f"http://127.0.0.1:{azurite.blob_port}/devstoreaccount1/recordings",
        # Step deadlines shrink with the emulator's time, so a lost event is recovered as soon as it would be.
        "WATCHDOG_TIME_SCALE": str(min(time_scale, 1.0)),
    }


async def _close_app_clients() -> None:
    from shared import clients

    await clients.close()


async def _seed() -> None:
    from shared import seed

    await seed.main()


def _listening(port: int) -> bool:
    try:
        wait_for_port("127.0.0.1", port, timeout=0.2)
    except TimeoutError:
        return False
    return True


# Each service's port: the stack's flag, and the environment variable the service itself reads when run alone.
PORT_OPTIONS = (
    ("emulator", "the ACS emulator", "--emulator-port", "ACS_EMULATOR_PORT"),
    ("devhost", "the dev host (function app)", "--devhost-port", "DEVHOST_PORT"),
    ("receiver", "the receiver", "--receiver-port", "RECEIVER_PORT"),
    ("blob", "Azurite's blob service", "--blob-port", "AZURITE_BLOB_PORT"),
    ("queue", "Azurite's queue service", "--queue-port", "AZURITE_QUEUE_PORT"),
    ("table", "Azurite's table service", "--table-port", "AZURITE_TABLE_PORT"),
)
AZURITE_PORTS = ("blob", "queue", "table")


class Stopped(Exception):
    """SIGTERM (an IDE's stop button, `timeout`, a container stop): stop like Ctrl-C, every child included."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devhost.stack",
        description="Run the app locally: Azurite, the ACS emulator, the receiver and the dev host, then place a "
        "demo call. `make run ARGS=...` and `make demo ARGS=...` pass flags through.",
        epilog="Every port flag defaults to its environment variable (shown in brackets), else the usual port; "
        "0 picks a free port.",
    )
    parser.add_argument("--exit-after-demo", action="store_true", help="stop everything once the demo call ended")
    parser.add_argument("--no-demo", action="store_true", help="start the services without placing a demo call")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=float(os.environ.get("STACK_TIME_SCALE", "1.0")),
        help="emulated time multiplier; 0.2 makes the demo call five times faster [STACK_TIME_SCALE] (default 1.0)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log every function invocation and the dev host's functions table"
    )
    defaults = StackPorts()
    for name, service, flag, variable in PORT_OPTIONS:
        parser.add_argument(
            flag,
            dest=f"{name}_port",
            type=int,
            metavar="N",
            default=_port_from_env(variable, getattr(defaults, name)),
            help=f"port of {service} [{variable}] (default {getattr(defaults, name)})",
        )
    args = parser.parse_args(argv)
    if args.time_scale <= 0:
        parser.error("--time-scale must be greater than 0")
    return args


def _port_from_env(variable: str, default: int) -> int:
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) > 65535:
        raise SystemExit(f"error: {variable} must be a port number (0-65535), not {value!r}")
    return int(value)


def check_ports(ports: StackPorts) -> str | None:
    """Raise PortInUse naming each taken port and its holder. An Azurite already listening is used: the returned
    line says so and names its process."""
    needs = [
        PortNeed(service, getattr(ports, name), flag, variable)
        for name, service, flag, variable in PORT_OPTIONS
        if name not in AZURITE_PORTS
    ]
    reused = None
    if ports.blob and ports.table and _listening(ports.blob) and _listening(ports.table):
        holder = holder_of(ports.blob) or "a process this user cannot see"
        reused = f"Azurite is already listening on ports {ports.blob}-{ports.table} ({holder}); the stack uses it"
    else:
        needs += [
            PortNeed(service, getattr(ports, name), flag, variable)
            for name, service, flag, variable in PORT_OPTIONS
            if name in AZURITE_PORTS
        ]
    check_free(needs)
    return reused


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(verbose=args.verbose)
    ports = StackPorts(**{name: getattr(args, f"{name}_port") for name, *_ in PORT_OPTIONS})
    # From here on SIGTERM unwinds like Ctrl-C: every child (Azurite included) is stopped on the way out. SIGINT is
    # set too, since a shell that starts the stack in the background leaves it ignored.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stack = LocalStack(ports=ports, time_scale=args.time_scale)
    try:
        reused = check_ports(ports)
        if reused:
            logger.warning(reused)
        stack.start()
        return _serve(stack, args)
    except PortInUse as error:
        print(f"error: the local stack cannot start:\n{error.strerror}", file=sys.stderr)
        return 1
    except (OSError, TimeoutError, RuntimeError) as error:
        print(f"error: could not start the local stack: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Stopped):
        print("\nStopping.", flush=True)
        return 0
    finally:
        stack.stop()


def _serve(stack: LocalStack, args: argparse.Namespace) -> int:
    from devhost import demo

    print(stack_banner(stack), flush=True)
    if not args.no_demo:
        try:
            demo.run(stack)
        except TimeoutError as error:
            print(f"error: the demo call did not go as scripted: {error}", file=sys.stderr)
            return 1
    if args.exit_after_demo:
        return 0
    if not args.no_demo:
        print("\n" + stack_banner(stack), flush=True)  # the demo's lines have scrolled the first one away
    print(demo.how_to_call(stack), flush=True)
    threading.Event().wait()
    return 0


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise Stopped


def configure_logging(*, verbose: bool) -> None:
    """The app's and the hosts' own lines; per-invocation and per-delivery lines only when asked (--verbose)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    # The Azure SDKs log every HTTP request at INFO; the app's and the hosts' own lines are what a reader wants.
    logging.getLogger("azure").setLevel(logging.WARNING)
    if verbose:
        for name in ("devhost", "emulator"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    else:
        logging.getLogger(INVOCATION_LOGGER).setLevel(logging.WARNING)


def stack_banner(stack: LocalStack) -> str:
    """What is up and where, the web page first; printed once everything is up and again after the demo."""
    assert stack.emulator and stack.devhost and stack.azurite and stack.receiver
    emulator = stack.emulator.url
    return "\n".join([
        "Local stack is up:",
        f"  Web phone      {emulator}/emulator/   (place calls, hear the prompts, watch each call live)",
        f"  Function app   {stack.devhost.url}/api/   (callbacks: {stack.devhost.url}/api/callbacks)",
        f"  ACS emulator   {emulator}   (control API: {emulator}/emulator/health, CLI: python -m emulator --help)",
        f"  Receiver       {stack.receiver.url}   (media streaming, transcription)",
        f"  Azurite        blob :{stack.azurite.blob_port}  queue :{stack.azurite.queue_port}  "
        f"table :{stack.azurite.table_port}",
    ])  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
