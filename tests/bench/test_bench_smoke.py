"""The benchmark code runs with tiny sizes and produces complete, consistent results (behaviour, never timing)."""

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import cli
from bench.capacity import CapacityResult, CapacityRun, CapacityStep, measure_capacity
from bench.concurrency import measure_concurrency
from bench.emulator_load import measure_emulator_load
from bench.imports import VARIANTS, measure_imports, parse_importtime
from bench.localstack import BenchStack, bench_stack
from bench.peer import measure_peer
from bench.raw_io import measure_raw_io
from bench.report import (
    format_capacity,
    format_concurrency,
    format_emulator_load,
    format_imports,
    format_traces,
    format_turnaround,
    markdown_summary,
)
from bench.stats import Summary, percentile, reference_cpu_ms
from bench.timelines import STEPS
from bench.traces import measure_traces
from bench.turnaround import measure_turnaround
from devhost.azurite import Azurite, free_port
from devhost.stack import StackPorts

pytestmark = pytest.mark.slow  # a whole local stack and real benchmark runs: about 25 s
TIME_SCALE = 0.1  # slow enough that a busy test machine does not make a caller miss a recognize


@pytest.fixture(scope="module")
def bench(azurite: Azurite) -> Iterator[BenchStack]:
    ports = StackPorts(
        emulator=0, devhost=free_port(), blob=azurite.blob_port, queue=azurite.queue_port, table=azurite.table_port
    )
    with bench_stack(TIME_SCALE, ports=ports) as running:
        yield running


def assert_summary(summary: Summary, count: int) -> None:
    assert summary.count == count
    assert 0 <= summary.p50 <= summary.p95 <= summary.max


def test_percentiles_and_summaries() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([1.0, 2.0], 0.95) == 2.0
    assert math.isnan(percentile([], 0.5))
    assert Summary.of([]).to_dict() == {"count": 0, "p50": None, "p95": None, "max": None, "mean": None}


def test_importtime_lines_after_the_marker_are_parsed_with_their_depth() -> None:
    stderr = "\n".join([
        "import time: self [us] | cumulative | imported package",
        "import time:       100 |        100 | site",
        "@@bench-import-start",
        "import time:      2000 |       2000 |   azure.core",
        "import time:      1500 |       3500 | function_app",
    ])  # fmt: skip
    costs = parse_importtime(stderr)
    assert [(cost.module, cost.depth, cost.self_ms, cost.cumulative_ms) for cost in costs] == [
        ("azure.core", 1, 2.0, 2.0),
        ("function_app", 0, 1.5, 3.5),
    ]


def test_import_benchmark_measures_the_app_and_the_eager_baseline() -> None:
    chosen = tuple(variant for variant in VARIANTS if variant.name in ("function_app", "eager_app"))
    result = measure_imports(runs=1, variants=chosen)
    app, eager = result.variants["function_app"], result.variants["eager_app"]
    for variant in (app, eager):
        assert variant.runs == 1
        assert variant.wall_ms > 0 and variant.importtime_ms > 0 and variant.rss_mib > 0
        assert 0 < len(variant.top_self) <= 5
    assert eager.modules_imported > app.modules_imported  # the eager set imports strictly more modules
    assert "azure.communication.callautomation" in eager.notable_ms
    assert result.ratio > 0
    json.dumps(result.to_dict())
    assert "function_app" in format_imports(result)


def test_turnaround_and_raw_io_cover_every_step_without_lost_or_duplicated_actions(bench: BenchStack) -> None:
    result = measure_turnaround(bench, calls=2)
    assert [step.name for step in result.steps] == [step.name for step in STEPS]
    for step in result.steps:
        assert_summary(step.host, 2)
        assert_summary(step.emulator, 2)
        assert_summary(step.first_action, 2)
        assert step.first_action.p50 <= step.host.p50  # the first ACS request is answered before the response
        assert step.io_count["acs"] >= 1  # every step answers with at least one ACS request
    assert (result.lost, result.duplicated, result.unexpected, result.failed_invocations) == (0, 0, 0, 0)
    assert result.callbacks.count >= 2 * len(STEPS)

    result.raw_io = measure_raw_io(bench, iterations=3)
    for summary in (result.raw_io.state_read, result.raw_io.state_write, result.raw_io.acs_get, result.raw_io.total):
        assert_summary(summary, 3)
    assert result.raw_io.store_rounds_per_s > 0
    json.dumps(result.to_dict())
    assert "Raw I/O" in format_turnaround(result)


def test_concurrent_callers_are_all_served_exactly_once(bench: BenchStack) -> None:
    result = measure_concurrency(bench, calls=2, call_timeout=60)
    assert result.errors == []
    assert result.completed == 2
    assert (result.lost, result.duplicated, result.unexpected, result.rejected_requests) == (0, 0, 0, 0)
    assert result.callbacks_failed == 0
    for name in (step.name for step in STEPS):
        assert_summary(result.steps[name], 2)
    assert_summary(result.all_steps, 2 * len(STEPS))
    assert result.callbacks_delivered >= 2 * 3  # at least CallConnected and two RecognizeCompleted per call
    assert result.rss_after_mib > 0 and result.peak_rss_mib >= result.rss_after_mib
    assert "devhost" in " ".join(result.cpu_s)
    json.dumps(result.to_dict())
    assert "lost 0, duplicated 0" in format_concurrency(result)
    assert "2 concurrent calls" in markdown_summary({"concurrency": result})


def test_cli_rejects_unknown_benchmarks_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--only", "nothing"])
    out = tmp_path / "bench.json"
    assert cli.main(["--only", "imports", "--import-runs", "1", "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert set(payload) >= {"machine", "command", "imports"}
    assert payload["machine"]["cpus"] >= 1
    assert "| Cold import of `function_app` |" in capsys.readouterr().out


def test_the_peer_baseline_is_timed_on_the_same_hops(bench: BenchStack) -> None:
    result = measure_turnaround(bench, calls=1)
    result.raw_io = measure_raw_io(bench, iterations=3)
    result.peer = measure_peer(bench, calls=1)
    assert list(result.peer.steps) == [step.name for step in STEPS[1:]]
    for summary in result.peer.steps.values():
        assert_summary(summary, 1)
    ratios = result.ratios()
    for name in ("menu_p50_vs_raw_io", "order_p95_vs_raw_io", "emu_menu_p50_vs_raw_io", "menu_p50_vs_peer"):
        assert ratios[name] is not None and ratios[name] > 0
    assert "greeting_recorded_vs_unrecorded_p50" not in ratios  # no unrecorded run was measured
    json.dumps(result.to_dict())
    assert "Peer baseline" in format_turnaround(result)
    assert "exactly once + authentication cost" in markdown_summary({"turnaround": result})


def test_the_emulator_holds_every_call_it_is_given_at_once() -> None:
    result = measure_emulator_load(calls=30, hold_seconds=0.5)
    assert result.connected_at_once == 30
    assert result.callbacks >= 2 * 30  # CallConnected and ParticipantsUpdated per call, signed and delivered
    assert result.rss_loaded_mib > 0 and result.setup_cpu_s > 0
    json.dumps(result.to_dict())
    assert "30 connected at once" in format_emulator_load(result)


def step(rate: float, *, p95: float, lost: int = 0, wall: float = 10.0) -> CapacityStep:
    return CapacityStep(
        rate=rate,
        calls=int(rate * 10),
        completed=int(rate * 10) - lost,
        lost=lost,
        duplicated=0,
        extra=0,
        failed_inputs=0,
        arrival_window_s=10.0,
        wall_s=wall,
        callbacks=int(rate * 90),
        invocations=int(rate * 100),
        hops=Summary(count=40, p50=p95 / 2, p95=p95, max=p95, mean=p95 / 2),
        app_cpu_s={"main": rate, "other": 0.0},
        azurite_cpu_s=rate / 2,
        emulator_and_callers_cpu_s=rate / 2,
    )


def test_capacity_is_the_last_rate_that_passed_and_scale_out_needs_both_limits() -> None:
    one = CapacityRun(instances=1, store_rounds_per_s=200.0, steps=[step(4, p95=80), step(8, p95=900)])
    two = CapacityRun(
        instances=2, store_rounds_per_s=200.0, steps=[step(4, p95=60), step(8, p95=200), step(12, p95=600)]
    )
    result = CapacityResult(time_scale=0.2, step_seconds=10, runs=[one, two])
    assert one.sustained is one.steps[0] and two.sustained is two.steps[1]
    assert result.scale_out == 2.0 and result.bottleneck == ""
    assert one.store_share == round(one.steps[0].callbacks_per_s / 200.0, 2)
    lost = CapacityRun(instances=2, store_rounds_per_s=200.0, steps=[step(4, p95=60), step(8, p95=100, lost=1)])
    shared = CapacityResult(time_scale=0.2, step_seconds=10, runs=[one, lost])
    assert shared.scale_out == 1.0 and shared.bottleneck.startswith("the machine's")
    unbounded = CapacityResult(time_scale=0.2, step_seconds=10, runs=[one, CapacityRun(2, 200.0, [step(4, p95=60)])])
    assert unbounded.scale_out is None and "offer more" in format_capacity(unbounded)


@pytest.mark.slow
def test_capacity_climbs_rates_for_one_and_two_app_processes() -> None:
    result = measure_capacity(instances=(1, 2), rates=(1.0,), step_seconds=2.0)
    assert [run.instances for run in result.runs] == [1, 2]
    for run in result.runs:
        [only] = run.steps
        assert only.calls >= 1 and only.completed == only.calls
        assert (only.lost, only.duplicated) == (0, 0)
        assert only.app_cpu_s["main"] > 0 and only.app_cpu_ms_per_invocation > 0
        assert only.reference_cpu_ms > 0  # the machine's speed, measured beside every step
        assert run.store_rounds_per_s > 0
    json.dumps(result.to_dict())
    assert "sustained" in format_capacity(result)


def test_the_price_of_traces_is_measured_on_two_instances_side_by_side() -> None:
    result = measure_traces(rate=2.0, round_seconds=2.0, rounds=1)

    every, sampled = result.variants
    for variant in (every, sampled):
        assert variant.traced.invocations > 0 and variant.untraced.invocations > 0
        assert variant.traced.ms_per_invocation > 0 and variant.untraced.ms_per_invocation > 0
    # Every invocation of the traced instance is a trace; one in ten at most when sampled (warm-up calls included).
    assert every.exported_traces >= every.traced.invocations
    assert sampled.exported_traces < every.exported_traces
    json.dumps(result.to_dict())
    assert "untraced ms/inv" in format_traces(result)
    assert "Traces to a file, every invocation" in markdown_summary({"traces": result})


def test_cli_rejects_rates_that_are_not_positive_numbers() -> None:
    for bad in ("fast", "0", ""):
        with pytest.raises(SystemExit):
            cli.main(["--only", "capacity", "--rates", bad])


def test_the_machine_reference_is_cpu_time_that_grows_with_the_work() -> None:
    assert 0 < reference_cpu_ms(rounds=200) < reference_cpu_ms(rounds=4_000)
