"""The price of traces: app CPU per invocation of an instance that exports traces beside one that does not.

Both instances run on one stack at the same moment, behind the emulator's delivery, so they share every condition
of the machine, whose speed drifts by a fifth from minute to minute; side by side, a 2 % difference shows. The
traced instance writes OTLP JSON lines to a file (the exporter this machine can run; Application Insights' differs
in encoding and transport), once for every invocation and once sampled with OpenTelemetry's own variables.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devhost.azurite import Azurite

from .capacity import _arrivals, _warm_up
from .instances import AppInstance, AppStack, app_stack

SAMPLED_RATIO = "0.1"
VARIANTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("every invocation", {}),
    (
        f"1 in {1 / float(SAMPLED_RATIO):.0f} (OTEL_TRACES_SAMPLER_ARG={SAMPLED_RATIO})",
        {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": SAMPLED_RATIO},
    ),
)


@dataclass(frozen=True)
class Served:
    """What one instance did over a round (or several): its CPU seconds and the invocations delivered to it."""

    cpu_s: float
    invocations: int

    @property
    def ms_per_invocation(self) -> float:
        return round(self.cpu_s * 1000 / self.invocations, 2) if self.invocations else 0.0

    @staticmethod
    def total(parts: list[Served]) -> Served:
        return Served(sum(part.cpu_s for part in parts), sum(part.invocations for part in parts))


@dataclass
class TracesVariant:
    name: str
    settings: dict[str, str]
    exported_traces: int = 0  # root spans in the file: the invocations actually traced (warm-up calls included)
    rounds: list[tuple[Served, Served]] = field(default_factory=list)  # (traced instance, untraced instance)

    @property
    def traced(self) -> Served:
        return Served.total([traced for traced, _ in self.rounds])

    @property
    def untraced(self) -> Served:
        return Served.total([untraced for _, untraced in self.rounds])

    @property
    def overhead_ms(self) -> float:
        return round(self.traced.ms_per_invocation - self.untraced.ms_per_invocation, 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "settings": self.settings,
            "traced_ms_per_invocation": self.traced.ms_per_invocation,
            "untraced_ms_per_invocation": self.untraced.ms_per_invocation,
            "overhead_ms_per_invocation": self.overhead_ms,
            "traced_invocations": self.traced.invocations,
            "untraced_invocations": self.untraced.invocations,
            "exported_traces": self.exported_traces,
            "rounds": [
                {"traced_ms": traced.ms_per_invocation, "untraced_ms": untraced.ms_per_invocation}
                for traced, untraced in self.rounds
            ],
        }


@dataclass
class TracesResult:
    rate: float
    round_seconds: float
    variants: list[TracesVariant]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "round_seconds": self.round_seconds,
            "variants": [variant.to_dict() for variant in self.variants],
        }


def measure_traces(
    *, rate: float = 6.0, round_seconds: float = 30.0, rounds: int = 2, time_scale: float = 0.2, seed: int = 7
) -> TracesResult:
    """For each variant: two instances, the first exporting traces to a file; Poisson arrivals at rate calls/s."""
    variants = [TracesVariant(name, dict(settings)) for name, settings in VARIANTS]
    with Azurite() as azurite, tempfile.TemporaryDirectory(prefix="bench-traces-") as folder:
        for index, variant in enumerate(variants):
            spans = Path(folder) / f"traces-{index}.jsonl"
            with app_stack(instances=2, time_scale=time_scale, azurite=azurite) as stack:
                _restart_with(stack.instances[0], {"TRACES_EXPORTER": f"file:{spans}", **variant.settings})
                _warm_up(stack)
                for number in range(rounds):
                    _measure_round(stack, variant, rate, round_seconds, seed + number)
            # The instance has stopped, so its exporter has flushed every batch.
            variant.exported_traces = _root_spans(spans)
    return TracesResult(rate=rate, round_seconds=round_seconds, variants=variants)


def _restart_with(instance: AppInstance, settings: dict[str, str]) -> None:
    instance.environment = {**instance.environment, **settings}
    instance.stop()
    instance.start()


def _measure_round(stack: AppStack, variant: TracesVariant, rate: float, seconds: float, seed: int) -> None:
    stack.control.reset()
    before = [instance.cpu_seconds() for instance in stack.instances]
    asyncio.run(_arrivals(stack, rate, seconds, seed))
    after = [instance.cpu_seconds() for instance in stack.instances]
    urls = [delivery["url"] for delivery in stack.control.deliveries()]
    traced, untraced = (
        Served(end - start, sum(1 for url in urls if url.startswith(f"{instance.url}/")))
        for instance, start, end in zip(stack.instances, before, after, strict=True)
    )
    variant.rounds.append((traced, untraced))


def _root_spans(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(
        1
        for line in path.read_text().splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
        if not span.get("parentSpanId")
    )
