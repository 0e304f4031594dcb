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
from collections import Counter
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


@dataclass
class TracesVariant:
    name: str
    settings: dict[str, str]
    traced_cpu_s: float = 0.0
    traced_invocations: int = 0
    untraced_cpu_s: float = 0.0
    untraced_invocations: int = 0
    exported_traces: int = 0  # root spans in the file: the invocations actually traced (warm-up calls included)
    rounds: list[dict[str, float]] = field(default_factory=list)

    @property
    def traced_ms(self) -> float:
        return round(self.traced_cpu_s * 1000 / self.traced_invocations, 2) if self.traced_invocations else 0.0

    @property
    def untraced_ms(self) -> float:
        return round(self.untraced_cpu_s * 1000 / self.untraced_invocations, 2) if self.untraced_invocations else 0.0

    @property
    def overhead_ms(self) -> float:
        return round(self.traced_ms - self.untraced_ms, 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "settings": self.settings,
            "traced_ms_per_invocation": self.traced_ms,
            "untraced_ms_per_invocation": self.untraced_ms,
            "overhead_ms_per_invocation": self.overhead_ms,
            "traced_invocations": self.traced_invocations,
            "untraced_invocations": self.untraced_invocations,
            "exported_traces": self.exported_traces,
            "rounds": self.rounds,
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
    before = [sum(instance.thread_cpu_seconds().values()) for instance in stack.instances]
    asyncio.run(_arrivals(stack, rate, seconds, seed))
    after = [sum(instance.thread_cpu_seconds().values()) for instance in stack.instances]
    served: Counter[int] = Counter()
    for delivery in stack.control.deliveries():
        for index, instance in enumerate(stack.instances):
            if f":{instance.port}/" in delivery["url"]:
                served[index] += 1
    cpu = [end - start for start, end in zip(before, after, strict=True)]
    variant.traced_cpu_s += cpu[0]
    variant.untraced_cpu_s += cpu[1]
    variant.traced_invocations += served[0]
    variant.untraced_invocations += served[1]
    variant.rounds.append(
        {
            "traced_ms": round(cpu[0] * 1000 / max(served[0], 1), 2),
            "untraced_ms": round(cpu[1] * 1000 / max(served[1], 1), 2),
        }
    )


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
