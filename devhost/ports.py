"""Which ports the local stack needs, whether they are free, and who holds one that is not (from /proc on Linux)."""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_LISTEN_STATE = "0A"  # TCP_LISTEN in /proc/net/tcp's "st" column


class PortInUse(OSError):
    """A port the stack wants is taken; the message names the port, its holder and how to choose another."""


@dataclass(frozen=True)
class PortNeed:
    """One fixed port a service needs, and how a person picks another one (a flag and its environment variable)."""

    service: str
    port: int
    flag: str
    variable: str

    def problem(self, holder: str | None) -> str:
        held = f"held by {holder}" if holder else "in use by another process"
        return (
            f"{self.service} needs port {self.port}, which is {held}; stop it, or choose another port with "
            f"{self.flag} N (or {self.variable}=N)"
        )


def can_bind(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on host:port now (SO_REUSEADDR, as the stack's servers bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def holder_of(port: int) -> str | None:
    """ "pid 1234 (node .../azurite --blobPort 10000)" for the process listening on port, or None if unknown."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for pid_dir in PROC.glob("[0-9]*"):
        try:
            for fd in (pid_dir / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return f"pid {pid_dir.name} ({_command_line(pid_dir)})"
        except OSError:
            continue  # the process ended, or its fds are not ours to read
    return None


def check_free(needs: list[PortNeed], host: str = "127.0.0.1") -> None:
    """Raise PortInUse naming every needed port that is taken (0 means "any free port" and is never taken)."""
    problems = [need.problem(holder_of(need.port)) for need in needs if need.port and not can_bind(need.port, host)]
    if problems:
        raise PortInUse(errno.EADDRINUSE, "\n".join(problems))


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == _LISTEN_STATE:
                inodes.add(f"socket:[{fields[9]}]")
    return inodes


def _command_line(pid_dir: Path, limit: int = 100) -> str:
    try:
        words = (pid_dir / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(word.decode(errors="replace") for word in words if word)
    return text if len(text) <= limit else text[: limit - 3] + "..."
