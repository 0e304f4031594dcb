"""`make run` and `make demo` as a person runs them: back to back, stopped by SIGTERM or Ctrl-C, on a taken port.

Each run gets its own free ports (through the variables the stack documents), so these tests never meet another
stack on this machine; each checks that nothing it started outlives it.
"""

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.azurite import free_ports
from devhost.ports import can_bind
from devhost.stack import PORT_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
PORT_VARIABLES = [variable for *_, variable in PORT_OPTIONS]


@pytest.fixture
def ports() -> dict[str, str]:
    """A free port for every service, as the environment variables `make run` reads."""
    return {variable: str(port) for variable, port in zip(PORT_VARIABLES, free_ports(len(PORT_VARIABLES)), strict=True)}


class Run:
    """A command in a session of its own, its output collected line by line as it comes."""

    def __init__(self, command: list[str], ports: dict[str, str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **ports},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # everything it starts shares this session, which the test then inspects
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, containing: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(containing in line for line in self.lines):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    raise AssertionError(f"no line with {containing!r} within {timeout}s:\n{self.output[-3000:]}")
                self._changed.wait(min(remaining, 0.5))

    def finish(self, timeout: float) -> int:
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code

    def survivors(self) -> list[str]:
        """Processes still alive in the run's session (its children and theirs), as "pid command"."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After ")": state, ppid, pgrp, session; a zombie (Z) has released everything it held.
            if int(fields[3]) == self.process.pid and fields[0] != "Z":
                command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{stat.parent.name} {command.strip()}")
        return found

    def kill_survivors(self) -> None:
        for survivor in self.survivors():
            os.kill(int(survivor.split()[0]), signal.SIGKILL)


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    """Runs a test starts; whatever a failing test leaves behind is killed, by pid, afterwards."""
    started: list[Run] = []
    yield started
    for run in started:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
        run.kill_survivors()


def assert_nothing_left(run: Run, ports: dict[str, str]) -> None:
    assert run.survivors() == []
    taken = [port for port in ports.values() if not can_bind(int(port))]
    assert taken == [], f"ports still held after the stack stopped: {taken}"
    assert "Traceback" not in run.output


@pytest.mark.slow
def test_make_demo_three_times_back_to_back(ports: dict[str, str], runs: list[Run]) -> None:
    """The same ports each time: a port the previous run closed a moment ago must be free to bind at once."""
    for attempt in range(3):
        run = Run(["make", "-s", "demo", "ARGS=--time-scale=0.2"], ports)
        runs.append(run)
        code = run.finish(timeout=120)
        assert code == 0, f"run {attempt + 1} failed:\n{run.output[-3000:]}"
        assert "Timeline of the call (emulator's view):" in run.output
        assert "request   CallConnection_TerminateCall -> 204" in run.output
        assert_nothing_left(run, ports)


@pytest.mark.slow
def test_sigterm_from_timeout_leaves_no_process_or_port_behind(ports: dict[str, str], runs: list[Run]) -> None:
    run = Run(["timeout", "-s", "TERM", "20", "make", "-s", "run", "ARGS=--time-scale=0.2"], ports)
    runs.append(run)
    code = run.finish(timeout=60)
    assert code == 124, run.output[-3000:]  # timeout's code: it had to stop the stack
    # The banner comes once the services are up and again after the demo, the web page first each time.
    assert run.output.count("Local stack is up:\n  Web phone      http://127.0.0.1:") == 2
    assert "Press Ctrl-C to stop." in run.output
    assert run.output.rstrip().endswith("Stopping.")
    assert_nothing_left(run, ports)


@pytest.mark.slow
def test_ctrl_c_during_the_demo_stops_everything_without_a_traceback(ports: dict[str, str], runs: list[Run]) -> None:
    run = Run([str(ROOT / ".venv/bin/python"), "-m", "devhost.stack"], ports)
    runs.append(run)
    run.wait_for_line("presses 1 (order status)", timeout=60)
    run.process.send_signal(signal.SIGINT)
    assert run.finish(timeout=30) == 0
    # Invocations in flight at the signal finish (and may log) after "Stopping."; nothing fails or tracebacks.
    assert "Stopping." in run.lines and "Traceback" not in run.output
    assert_nothing_left(run, ports)


def test_a_taken_port_is_named_with_what_holds_it(ports: dict[str, str], runs: list[Run]) -> None:
    with socket_listening_on(int(ports["DEVHOST_PORT"])):
        run = Run([str(ROOT / ".venv/bin/python"), "-m", "devhost.stack", "--no-demo"], ports)
        runs.append(run)
        assert run.finish(timeout=60) == 1
    assert run.lines[-2] == "error: the local stack cannot start:"
    problem = run.lines[-1]
    assert problem.startswith(
        f"the dev host (function app) needs port {ports['DEVHOST_PORT']}, which is held by pid {os.getpid()} ("
    )
    assert problem.endswith("; stop it, or choose another port with --devhost-port N (or DEVHOST_PORT=N)")
    assert_nothing_left(run, ports)


def test_a_bad_port_variable_is_a_clear_error(ports: dict[str, str], runs: list[Run]) -> None:
    run = Run([str(ROOT / ".venv/bin/python"), "-m", "devhost.stack"], {**ports, "RECEIVER_PORT": "eighty"})
    runs.append(run)
    assert run.finish(timeout=60) == 1
    assert run.lines == ["error: RECEIVER_PORT must be a port number (0-65535), not 'eighty'"]


@contextlib.contextmanager
def socket_listening_on(port: int) -> Iterator[None]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield
