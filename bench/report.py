"""Human-readable tables of the benchmark results, and the Markdown summary the README quotes."""

from __future__ import annotations

from typing import Any

from .capacity import P95_LIMIT_MS, CapacityResult
from .chaos import ChaosResult
from .concurrency import ConcurrencyResult
from .emulator_load import EmulatorLoadResult
from .imports import ImportResult
from .stats import Summary
from .traces import TracesResult
from .turnaround import GREETING_HOP, MENU_HOP, TurnaroundResult


def _ms(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.1f}"


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        cell.ljust(width) if index == 0 else cell.rjust(width)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    )


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(line[index])) for line in [header, *rows]) for index in range(len(header))]
    lines = [_row(header, widths), _row(["-" * width for width in widths], widths)]
    lines += [_row(row, widths) for row in rows]
    return "\n".join(lines)


def _summary_cells(summary: Summary) -> list[str]:
    return [str(summary.count), _ms(summary.p50), _ms(summary.p95), _ms(summary.max)]


def format_imports(result: ImportResult) -> str:
    rows = [
        [
            variant.name,
            _ms(variant.wall_ms),
            _ms(variant.importtime_ms),
            str(variant.modules_imported),
            _ms(variant.rss_mib),
        ]
        for variant in result.variants.values()
    ]
    lines = [
        "Cold import (fresh interpreter, median of "
        f"{next(iter(result.variants.values())).runs} runs; function_app = {result.ratio:.0%} of eager)",
        table(["scenario", "wall ms", "importtime ms", "modules", "RSS MiB"], rows),
    ]
    for name in ("function_app", "function_app_in_worker", "eager_app"):
        variant = result.variants.get(name)
        if variant is None:
            continue
        costs = ", ".join(f"{cost.module} {cost.self_ms:.1f}" for cost in variant.top_self)
        notable = ", ".join(f"{module} {ms:.0f}" for module, ms in variant.notable_ms.items())
        lines.append(f"  {name}: top self ms: {costs}")
        lines.append(f"  {name}: packages (cumulative ms): {notable}")
    return "\n".join(lines)


def format_turnaround(result: TurnaroundResult) -> str:
    lines = _turnaround_table(result)
    if result.unrecorded is not None:
        lines += _turnaround_table(result.unrecorded)
    if result.peer is not None:
        hops = "; ".join(f"{name} {_summary_line(summary)}" for name, summary in result.peer.steps.items())
        lines.append(f"Peer baseline (stateless, no JWT check, {result.peer.calls} calls, same emulator): {hops}")
    lines += _raw_io_lines(result)
    ratios = ", ".join(f"{name} {value:g}x" for name, value in result.ratios().items() if value is not None)
    if ratios:
        lines.append(
            f"  ratios (in the app: callback received -> first ACS request answered; emu_: emulator's view): {ratios}"
        )
    return "\n".join(lines)


def _turnaround_table(result: TurnaroundResult) -> list[str]:
    rows = []
    for step in result.steps:
        io = " ".join(
            f"{label}={step.io_count[label]:g}x{step.io_ms[label]:.1f}" for label in step.io_ms if step.io_count[label]
        )
        rows.append(
            [
                step.name,
                *_summary_cells(step.host)[1:],
                _ms(step.first_action.p50),
                _ms(step.first_action.p95),
                *_summary_cells(step.emulator)[1:],
                io,
                _ms(step.other_ms),
                f"{step.adopted}/{step.host.count}",
            ]
        )
    recording = "recording on, as the sample" if result.recorded else "recording off"
    lines = [
        f"Callback turnaround ({result.calls} sequential calls, {recording}, time scale {result.time_scale}, "
        f"{result.wall_s:.1f} s)",
        table(
            [
                "step",
                "host p50",
                "p95",
                "max",
                "1st action p50",
                "p95",
                "emu p50",
                "p95",
                "max",
                "app I/O (count x median ms)",
                "other",
                "adopted",
            ],
            rows,
        ),
        f"  every callback POST: {_summary_line(result.callbacks)}; non-2xx: {result.failed_invocations}; "
        f"lost {result.lost}, duplicated {result.duplicated}, unexpected {result.unexpected}, "
        f"slow inputs {result.failed_inputs}",
    ]
    return lines


def _raw_io_lines(result: TurnaroundResult) -> list[str]:
    lines: list[str] = []
    raw = result.raw_io
    if raw is not None:
        lines.append(
            f"Raw I/O alone ({raw.iterations} rounds): state read {_summary_line(raw.state_read)}; "
            f"conditional write {_summary_line(raw.state_write)}; ACS GET {_summary_line(raw.acs_get)}; "
            f"ACS POST {_summary_line(raw.acs_post)}"
        )
        lines.append(
            f"  read + write + ACS GET: {_summary_line(raw.total)}; table store capacity "
            f"{raw.store_rounds_per_s:.0f} read+write pairs/s"
        )
    return lines


def _summary_line(summary: Summary) -> str:
    return f"p50 {_ms(summary.p50)} / p95 {_ms(summary.p95)} / max {_ms(summary.max)} ms (n={summary.count})"


def format_concurrency(result: ConcurrencyResult) -> str:
    rows = [[name, *_summary_cells(summary)] for name, summary in result.steps.items()]
    rows.append(["all hops", *_summary_cells(result.all_steps)])
    share = ", ".join(f"{label} {value:.0%}" for label, value in result.host_time_share.items())
    cpu = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.cpu_s.items())
    lines = [
        f"Concurrency ({result.calls} callers at once: {result.completed} completed in {result.wall_s:.1f} s, "
        f"{result.calls_per_s:.1f} calls/s)",
        table(["hop (event raised -> action accepted)", "n", "p50 ms", "p95 ms", "max ms"], rows),
        f"  actions: lost {result.lost}, duplicated {result.duplicated}, unexpected {result.unexpected}, "
        f"rejected {result.rejected_requests}; slow inputs re-prompted {result.failed_inputs}",
        f"  callbacks: {result.callbacks_delivered} delivered, {result.callbacks_failed} failed, "
        f"{result.callbacks_retried} retried; dev host per callback {_summary_line(result.host_callbacks)}",
        f"  dev host time: {share}; CPU: {cpu}",
        f"  RSS (emulator + dev host + callers, one process): {result.rss_before_mib:.0f} -> "
        f"{result.rss_after_mib:.0f} MiB (peak {result.peak_rss_mib:.0f})",
    ]
    lines += [f"  error: {error}" for error in result.errors]
    return "\n".join(lines)


def format_capacity(result: CapacityResult) -> str:
    lines = [
        f"Capacity (Poisson arrivals, {result.step_seconds:g} s per rate, time scale {result.time_scale}; "
        f"a rate passes with every hop's p95 <= {P95_LIMIT_MS:.0f} ms and nothing lost or duplicated)"
    ]
    for run in result.runs:
        rows = [
            [
                f"{step.rate:g}",
                "pass" if step.passed else "FAIL",
                f"{step.calls_per_s:g}",
                f"{step.callbacks_per_s:g}",
                _ms(step.hops.p50),
                _ms(step.hops.p95),
                f"{step.lost}/{step.duplicated}",
                f"{step.app_cpu_ms_per_invocation:.2f}",
                f"{step.app_cpu_s['main']:.1f}/{step.app_cpu_s['other']:.1f}",
                f"{step.azurite_cpu_s:.1f}",
                f"{step.emulator_and_callers_cpu_s:.1f}",
                f"{step.cpu_busy:.0%}",
                f"{step.reference_cpu_ms:g}",
            ]
            for step in run.steps
        ]
        best = run.sustained
        lines.append(
            f"  {run.instances} instance(s): sustained {best.calls_per_s if best else 0:g} calls/s, "
            f"{best.callbacks_per_s if best else 0:g} callbacks/s; Azurite's ceiling {run.store_rounds_per_s:.0f} "
            f"read+write pairs/s, so the app uses {run.store_share:.0%} of it"
        )
        header = ["rate", "", "calls/s", "callbacks/s", "hop p50", "p95", "lost/dup", "app CPU ms/inv"]
        header += ["app CPU s main/other", "Azurite CPU s", "emulator+callers CPU s", "cores busy", "reference ms"]
        lines.append(table(header, rows))
    if result.scale_out is not None:
        lines.append(f"  two instances sustain {result.scale_out:g}x one instance's rate")
    elif any(run.steps and run.steps[-1].passed for run in result.runs):
        lines.append("  the highest rate offered passed: offer more (--rates) to find the limit")
    if result.bottleneck:
        lines.append(f"  shared bottleneck: {result.bottleneck}")
    return "\n".join(lines)


def format_emulator_load(result: EmulatorLoadResult) -> str:
    return (
        f"Emulator under load ({result.calls} calls, its own process): {result.connected_at_once} connected at once "
        f"after {result.setup_s:g} s, held {result.hold_s:g} s; RSS {result.rss_idle_mib:.0f} -> "
        f"{result.rss_loaded_mib:.0f} MiB ({result.rss_kib_per_call:g} KiB per call); "
        f"CPU {result.setup_cpu_ms_per_call:g} ms per call set up ({result.callbacks} callbacks signed and sent), "
        f"{result.hold_cpu_us_per_call_second:g} us "
        "per call per second held"
    )


def markdown_summary(results: dict[str, Any]) -> str:
    """The table for the README: one line per quality bar."""
    rows: list[tuple[str, str]] = []
    imports: ImportResult | None = results.get("imports")
    if imports is not None:
        app, eager = imports.variants["function_app"], imports.variants["eager_app"]
        worker = imports.variants.get("function_app_in_worker")
        rows.append(
            (
                "Cold import of `function_app`",
                f"{app.wall_ms:.0f} ms ({app.rss_mib:.0f} MiB RSS) vs "
                f"{eager.wall_ms:.0f} ms ({eager.rss_mib:.0f} MiB) importing every SDK eagerly"
                + (f"; {worker.wall_ms:.0f} ms with `azure.functions` preloaded" if worker else ""),
            )
        )
        first = imports.variants.get("first_invocation")
        if first is not None:
            rows.append(("Deferred to the first invocation", f"{first.wall_ms:.0f} ms of SDK imports"))
    turnaround: TurnaroundResult | None = results.get("turnaround")
    if turnaround is not None:
        for step in turnaround.steps[1:]:
            rows.append(
                (
                    f"Turnaround `{step.name}`",
                    f"p50 {step.host.p50:.0f} / p95 {step.host.p95:.0f} ms "
                    f"(dev host); first action accepted after p50 {step.emulator.p50:.0f} ms",
                )
            )
        if turnaround.raw_io is not None:
            raw = turnaround.raw_io
            rows.append(
                (
                    "Raw I/O: 1 read + 1 conditional write + 1 ACS call",
                    f"p50 {raw.total.p50:.0f} / p95 {raw.total.p95:.0f} ms",
                )
            )
        ratios = turnaround.ratios()
        if "menu_p50_vs_raw_io" in ratios:
            rows.append(
                (
                    "Menu and order hops over the raw I/O (callback received -> first ACS request answered), p50 / p95",
                    f"menu {ratios['menu_p50_vs_raw_io']}x / {ratios['menu_p95_vs_raw_io']}x, order "
                    f"{ratios['order_p50_vs_raw_io']}x / {ratios['order_p95_vs_raw_io']}x",
                )
            )
        if "greeting_recorded_vs_unrecorded_p50" in ratios and turnaround.unrecorded is not None:
            on, off = turnaround.step(GREETING_HOP), turnaround.unrecorded.step(GREETING_HOP)
            rows.append(
                (
                    "Greeting hop, recording on / off (first action accepted)",
                    f"p50 {on.emulator.p50:.0f} / {off.emulator.p50:.0f} ms: "
                    f"{ratios['greeting_recorded_vs_unrecorded_p50']}x",
                )
            )
        if turnaround.peer is not None:
            peer = turnaround.peer.steps
            rows.append(
                (
                    "Stateless peer (no state, no JWT check), same emulator, p50",
                    f"menu hop {peer[MENU_HOP].p50:.1f} ms, app {turnaround.step(MENU_HOP).emulator.p50:.1f} ms: "
                    f"exactly once + authentication cost {ratios['menu_p50_vs_peer']}x",
                )
            )
    load: ConcurrencyResult | None = results.get("concurrency")
    if load is not None:
        rows.append(
            (
                f"{load.calls} concurrent calls, one instance",
                f"{load.completed} completed, {load.lost} lost, {load.duplicated} duplicated actions; "
                f"{load.wall_s:.0f} s wall, p95 hop {load.all_steps.p95:.0f} ms; RSS "
                f"{load.rss_before_mib:.0f} -> {load.rss_after_mib:.0f} MiB",
            )
        )
    capacity: CapacityResult | None = results.get("capacity")
    if capacity is not None:
        rows += _capacity_rows(capacity)
    traces: TracesResult | None = results.get("traces")
    if traces is not None:
        rows += [
            (
                f"Traces to a file, {variant.name} (paired instances, {traces.rate:g} calls/s)",
                f"app CPU {variant.traced.ms_per_invocation:g} ms per invocation against "
                f"{variant.untraced.ms_per_invocation:g} ms untraced: +{variant.overhead_ms:g} ms",
            )
            for variant in traces.variants
        ]
    emulator: EmulatorLoadResult | None = results.get("emulator")
    if emulator is not None:
        rows.append(
            (
                f"Emulator holding {emulator.calls} calls",
                f"{emulator.connected_at_once} connected at once; {emulator.rss_kib_per_call:g} KiB and "
                f"{emulator.setup_cpu_ms_per_call:g} ms CPU per call set up, "
                f"{emulator.hold_cpu_us_per_call_second:g} us CPU per call-second held",
            )
        )
    chaos: ChaosResult | None = results.get("faults")
    if chaos is not None:
        rows.append((f"Chaos: {chaos.calls} calls, two instances, {fault_summary(chaos)}", chaos_outcome(chaos)))
    lines = ["| measurement | result |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def format_traces(result: TracesResult) -> str:
    rows = [
        [
            variant.name,
            f"{variant.traced.ms_per_invocation:g}",
            f"{variant.untraced.ms_per_invocation:g}",
            f"+{variant.overhead_ms:g}",
            f"{variant.traced.invocations}/{variant.untraced.invocations}",
            str(variant.exported_traces),
        ]
        for variant in result.variants
    ]
    header = ["traced", "traced ms/inv", "untraced ms/inv", "price", "invocations", "traces exported"]
    return "\n".join(
        [
            f"Traces (two instances side by side, one exporting to a file; {result.rate:g} calls/s, "
            f"{len(result.variants[0].rounds) if result.variants else 0} x {result.round_seconds:g} s)",
            table(header, rows),
        ]
    )


def _capacity_rows(capacity: CapacityResult) -> list[tuple[str, str]]:
    rows = []
    for run in capacity.runs:
        best = run.sustained
        if best is None:
            rows.append((f"Capacity, {run.instances} app instance(s)", "no rate passed"))
            continue
        rows.append(
            (
                f"Capacity, {run.instances} app instance(s) (hop p95 <= {P95_LIMIT_MS:.0f} ms, 0 lost or duplicated)",
                f"{best.calls_per_s:g} calls/s, {best.callbacks_per_s:g} callbacks/s; app CPU "
                f"{best.app_cpu_ms_per_invocation:g} ms per invocation (threads besides the event loop "
                f"{best.app_cpu_s['other']:g} s; machine reference {best.reference_cpu_ms:g} ms); "
                f"{run.store_share:.0%} of Azurite's {run.store_rounds_per_s:.0f} read+write pairs/s",
            )
        )
    if capacity.scale_out is not None:
        shared = f"; shared bottleneck: {capacity.bottleneck}" if capacity.bottleneck else ""
        rows.append(("Two instances over one", f"{capacity.scale_out:g}x{shared}"))
    return rows


def fault_summary(chaos: ChaosResult) -> str:
    plan = chaos.plan
    parts = [
        f"every callback {'twice at once' if plan.duplicate >= 1 else f'duplicated {plan.duplicate:.0%}'}",
        f"{plan.late:.0%} re-sent late",
        f"{plan.reorder:.0%} reordered",
        f"{plan.drop:.0%} dropped",
        f"{plan.rest_failure:.0%} of ACS requests failed",
    ]
    if plan.kill:
        parts.append(f"one instance killed mid-call and restarted {plan.restart_after_seconds:g} s later")
    return ", ".join(parts)


def chaos_outcome(chaos: ChaosResult) -> str:
    return (
        f"{chaos.duplicated} duplicated actions ({chaos.extra} beyond what the calls needed), {chaos.lost} lost, "
        f"{chaos.stuck} stuck past deadline + 5 s; "
        f"{chaos.completed} of {chaos.calls} completed, {chaos.recovered} watchdog recoveries, "
        f"{chaos.failed_inputs} failed inputs re-asked; {chaos.wall_s:.0f} s wall"
    )


def format_chaos(chaos: ChaosResult) -> str:
    lines = [f"Chaos ({chaos.calls} calls): {fault_summary(chaos)}", f"  {chaos_outcome(chaos)}"]
    lines += [f"  {kill}" for kill in chaos.kills]
    lines += [f"  injected: {chaos.faults}"]
    lines += [f"  problem: {problem}" for problem in chaos.problems]
    return "\n".join(lines)
