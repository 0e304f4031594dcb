"""Start and stop Azurite (the npm package) for Table, Blob and Queue storage on loopback ports."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path

ACCOUNT_NAME = "devstoreaccount1"
# The well-known Azurite development key, published in Azurite's README; not a secret.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the OS for a free TCP port on host."""
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ask the OS for count distinct free TCP ports on host.

    Every socket stays bound until all are chosen: Linux often hands a port just released by one bind(0) to the
    next, and two services given the same port fail in ways that look like flaky networking.
    """
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    """Block until host:port accepts TCP connections, or raise TimeoutError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s") from None
            time.sleep(0.05)


def azurite_executable() -> str:
    local = REPO_ROOT / "node_modules" / ".bin" / "azurite"
    if local.exists():
        return str(local)
    found = shutil.which("azurite")
    if not found:
        raise FileNotFoundError("Azurite is not installed: run `npm ci` in the repository root (or `make bootstrap`)")
    return found


@dataclass
class Azurite:
    """An Azurite process with in-memory persistence; ports default to free ones."""

    host: str = "127.0.0.1"
    blob_port: int = 0
    queue_port: int = 0
    table_port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)
    _log: typing.IO[bytes] | None = field(default=None, repr=False)

    @property
    def connection_string(self) -> str:
        base = f"http://{self.host}"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={base}:{self.blob_port}/{ACCOUNT_NAME};"
            f"QueueEndpoint={base}:{self.queue_port}/{ACCOUNT_NAME};"
            f"TableEndpoint={base}:{self.table_port}/{ACCOUNT_NAME};"
        )

    def start(self, timeout: float = 60.0) -> Azurite:
        blob, queue, table = free_ports(3, self.host)
        self.blob_port = self.blob_port or blob
        self.queue_port = self.queue_port or queue
        self.table_port = self.table_port or table
        command = [
            azurite_executable(),
            "--silent",
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--disableProductStyleUrl",
            "--blobHost", self.host, "--blobPort", str(self.blob_port),
            "--queueHost", self.host, "--queuePort", str(self.queue_port),
            "--tableHost", self.host, "--tablePort", str(self.table_port),
        ]  # fmt: skip
        # A file, not a pipe: nobody reads Azurite's output while it runs, and a full pipe would stall it.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            for port in (self.blob_port, self.queue_port, self.table_port):
                if self.process.poll() is not None:
                    break
                wait_for_port(self.host, port, timeout)
        except TimeoutError:
            self.stop()
            raise
        if self.process.poll() is not None:
            self._log.seek(0)
            output = self._log.read().decode(errors="replace").strip()
            self.stop()
            raise RuntimeError(f"Azurite exited at start-up: {output[-2000:]}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                # Azurite ignores SIGTERM once it has been up a few seconds; with in-memory persistence
                # there is nothing to flush, so a short grace period before killing loses nothing.
                self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
