"""Small statistics and process helpers shared by the benchmarks: percentiles, summaries, resident memory."""

from __future__ import annotations

import math
import resource
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


def percentile(values: Iterable[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction in 0..1) of values; NaN when there are none."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Summary:
    """count / p50 / p95 / max / mean of a series of milliseconds."""

    count: int
    p50: float
    p95: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Summary:
        series = list(values)
        if not series:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(
            count=len(series),
            p50=round(percentile(series, 0.50), 2),
            p95=round(percentile(series, 0.95), 2),
            max=round(max(series), 2),
            mean=round(sum(series) / len(series), 2),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            key: (None if isinstance(value, float) and math.isnan(value) else value)
            for key, value in asdict(self).items()
        }


def _status_kib(field: str, status: Path = Path("/proc/self/status")) -> int | None:
    try:
        for line in status.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mib() -> float:
    """This process's resident set size now (VmRSS), in MiB; falls back to the peak where /proc is missing."""
    kib = _status_kib("VmRSS")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kib / 1024, 1)


def peak_rss_mib() -> float:
    """This process's peak resident set size (VmHWM; ru_maxrss where /proc is missing), in MiB."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kib / 1024, 1)


def cpu_seconds() -> float:
    """CPU time (user + system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of another process, from /proc/<pid>/stat; None if unreadable."""
    return _stat_cpu_seconds(Path(f"/proc/{pid}/stat"))


def _stat_cpu_seconds(stat: Path) -> float | None:
    import os

    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the ")" that ends the command name: state is field 3, utime 14 and stime 15 (1-based, proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU time of another process's threads: its main thread ("main", where the dev host runs its event loop) and
    all the others together ("other": the default executor and any other pool)."""
    totals = {"main": 0.0, "other": 0.0}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        seconds = _stat_cpu_seconds(task / "stat")
        if seconds is not None:
            totals["main" if task.name == str(pid) else "other"] += seconds
    return totals


def process_rss_mib(pid: int) -> float | None:
    """Another process's resident set size now (VmRSS), in MiB; None if unreadable."""
    kib = _status_kib("VmRSS", Path(f"/proc/{pid}/status"))
    return None if kib is None else round(kib / 1024, 1)


def thread_cpu_seconds() -> dict[str, float]:
    """CPU time of each live thread of this process by thread name (Linux /proc/self/task), summed per name."""
    import os
    import threading

    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for thread in threading.enumerate():
        if thread.native_id is None:
            continue
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # Pools ("asyncio_0", "ThreadPoolExecutor-0_1", "Thread-3") count as one name each.
        name = thread.name.split("_")[0].split("-")[0] if thread.name[-1:].isdigit() else thread.name
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


# A callback-sized JSON document: the reference workload parses and serialises it, as the app does its events.
_REFERENCE_DOCUMENT = {
    "id": "4d7a2e1c-93b0-4b8e-a1f5-2c6d0e9b7a31",
    "type": "Microsoft.Communication.RecognizeCompleted",
    "data": {"callConnectionId": "0b004880-e406-40bf-8384-a4042a72fecd", "operationContext": "main-menu/1",
             "resultInformation": {"code": 200, "subCode": 8531, "message": "Action completed, max digits received"},
             "dtmfResult": {"tones": ["one", "two", "three", "four", "five", "pound"]}},
}  # fmt: skip
REFERENCE_ROUNDS = 10_000


def reference_cpu_ms(rounds: int = REFERENCE_ROUNDS) -> float:
    """CPU time of this thread for a fixed pure-Python workload (JSON round trips of a callback-sized document): how
    fast this machine runs Python at the moment. On a shared VM it moves by a quarter between minutes, so runs are
    compared with it beside them."""
    import json
    import time

    started = time.thread_time()
    for _ in range(rounds):
        json.loads(json.dumps(_REFERENCE_DOCUMENT))
    return round((time.thread_time() - started) * 1000, 1)


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: how busy the machine was (other work skews every number)."""
    import os

    return [round(value, 2) for value in os.getloadavg()]
