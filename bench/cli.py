"""Command line of `python -m bench`: which benchmarks, how big, and where the results go."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .capacity import DEFAULT_RATES, measure_capacity
from .chaos import ChaosPlan, chaos_stack, measure_chaos
from .concurrency import measure_concurrency
from .emulator_load import measure_emulator_load
from .imports import measure_imports
from .localstack import bench_stack
from .peer import measure_peer
from .raw_io import measure_raw_io
from .report import (
    format_capacity,
    format_chaos,
    format_concurrency,
    format_emulator_load,
    format_imports,
    format_traces,
    format_turnaround,
    markdown_summary,
)
from .stats import load_average
from .traces import measure_traces
from .turnaround import measure_turnaround

BENCHMARKS = ("imports", "turnaround", "concurrency", "capacity", "traces", "emulator", "faults")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks on the local stack: cold import, callback turnaround (and a stateless peer), "
        "concurrent calls, capacity per app instance, the price of traces, the emulator under 1,000 calls, exactly "
        "once under faults.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a fast check (20 concurrent calls)")
    parser.add_argument("--calls", type=int, help="concurrent callers (default 200, faults 100; --quick 20)")
    parser.add_argument("--turnaround-calls", type=int, help="sequential calls timed (default 30, --quick 5)")
    parser.add_argument("--raw-io", type=int, help="raw I/O rounds (default 200, --quick 30)")
    parser.add_argument("--import-runs", type=int, help="fresh interpreters per import scenario (default 7, --quick 3)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=0.02,
        help="emulated time for the turnaround stack (default 0.02: a 5 s timeout takes 100 ms)",
    )
    parser.add_argument(
        "--load-time-scale",
        type=float,
        default=0.5,
        help="emulated time for the concurrency stack; ring (30 s) and input (5 s) timeouts scale "
        "with it and must outlast the app's answers under load (default 0.5)",
    )
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument(
        "--seed", type=int, default=7, help="seed of the fault plan and of the capacity arrivals (default 7)"
    )
    parser.add_argument(
        "--rates",
        default=",".join(f"{rate:g}" for rate in DEFAULT_RATES),
        help="capacity: offered calls/s, climbed until p95 hop > 500 ms or an action is lost or duplicated",
    )
    parser.add_argument("--step-seconds", type=float, help="capacity: seconds of arrivals per rate (default 15)")
    parser.add_argument("--emulator-calls", type=int, help="calls the emulator holds at once (default 1000)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every number as JSON to PATH")
    parser.add_argument("--log-level", default="ERROR", help="log level of the stack and the app (default ERROR)")
    return parser


def _size(value: int | None, quick: bool, small: int, full: int) -> int:
    size = value if value is not None else (small if quick else full)
    if size < 1:
        raise SystemExit(f"error: sizes must be at least 1, got {size}")
    return size


def _rates(text: str) -> list[float]:
    try:
        rates = [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise SystemExit(f"error: --rates takes comma-separated calls per second, got {text!r}") from None
    if not rates or any(rate <= 0 for rate in rates):
        raise SystemExit(f"error: --rates must be positive, got {text!r}")
    return rates


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected benchmarks; returns their result objects by name."""
    selected = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = selected - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"error: unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {BENCHMARKS}")
    results: dict[str, Any] = {}
    if "imports" in selected:
        _progress("cold import ...")
        results["imports"] = measure_imports(runs=_size(args.import_runs, args.quick, 3, 7))
        print(format_imports(results["imports"]), end="\n\n", flush=True)
    if "turnaround" in selected:
        _progress(f"turnaround (local stack, time scale {args.time_scale}) ...")
        calls = _size(args.turnaround_calls, args.quick, 5, 30)
        with bench_stack(args.time_scale) as bench:
            turnaround = measure_turnaround(bench, calls=calls)
            turnaround.raw_io = measure_raw_io(bench, iterations=_size(args.raw_io, args.quick, 30, 200))
            turnaround.peer = measure_peer(bench, calls=calls)
        _progress("turnaround with recording off ...")
        with bench_stack(args.time_scale, settings={"RECORDING_ENABLED_FLOWS": ""}) as bench:
            turnaround.unrecorded = measure_turnaround(bench, calls=calls)
        results["turnaround"] = turnaround
        print(format_turnaround(turnaround), end="\n\n", flush=True)
    if "concurrency" in selected:
        calls = _size(args.calls, args.quick, 20, 200)
        _progress(f"concurrency ({calls} callers, time scale {args.load_time_scale}) ...")
        with bench_stack(args.load_time_scale) as bench:
            results["concurrency"] = measure_concurrency(bench, calls=calls)
        print(format_concurrency(results["concurrency"]), end="\n\n", flush=True)
    if "capacity" in selected:
        rates = _rates(args.rates)
        step_seconds = args.step_seconds or (6.0 if args.quick else 15.0)
        _progress(f"capacity (one then two app instances, rates {args.rates} calls/s, {step_seconds:g} s each) ...")
        results["capacity"] = measure_capacity(rates=rates, step_seconds=step_seconds, seed=args.seed)
        print(format_capacity(results["capacity"]), end="\n\n", flush=True)
    if "traces" in selected:
        seconds = 6.0 if args.quick else 30.0
        _progress(f"traces (two instances side by side, one exporting; {seconds:g} s rounds) ...")
        results["traces"] = measure_traces(round_seconds=seconds, rounds=1 if args.quick else 2, seed=args.seed)
        print(format_traces(results["traces"]), end="\n\n", flush=True)
    if "emulator" in selected:
        calls = _size(args.emulator_calls, args.quick, 200, 1000)
        _progress(f"emulator holding {calls} calls ...")
        results["emulator"] = measure_emulator_load(calls=calls)
        print(format_emulator_load(results["emulator"]), end="\n\n", flush=True)
    if "faults" in selected:
        plan = ChaosPlan(calls=_size(args.calls, args.quick, 20, 100), seed=args.seed)
        _progress(f"faults ({plan.calls} calls, two app instances, time scale {plan.time_scale}) ...")
        with chaos_stack(plan) as stack:
            results["faults"] = measure_chaos(stack, plan)
        print(format_chaos(results["faults"]), end="\n\n", flush=True)
    return results


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    about = machine()
    started = time.monotonic()
    try:
        results = run(args)
    except (OSError, TimeoutError, RuntimeError) as error:
        print(f"error: benchmark failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    about["duration_s"] = round(time.monotonic() - started, 1)
    about["load_average_after"] = load_average()
    print("Summary (for the README):")
    print(markdown_summary(results))
    print(
        f"\n{about['date']}, {about['cpus']} CPUs, Python {about['python']}, load average "
        f"{about['load_average']} -> {about['load_average_after']}, {about['duration_s']} s"
    )
    if args.json:
        payload = {
            "machine": about,
            "command": " ".join(["python -m bench", *(argv or sys.argv[1:])]),
            **{name: result.to_dict() for name, result in results.items()},
        }
        if "faults" in results:
            # The chaos run's verdict at the top level too, where a CI step or a reader looks first.
            verdict = results["faults"].to_dict()
            payload.update({name: verdict[name] for name in ("calls", "lost", "duplicated", "stuck")})
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
