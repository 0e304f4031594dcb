"""Exactly once under each fault class, one class at a time: two app instances (dev host processes) on one Azurite
behind the emulator's fault mode, a few calls each, every call's timeline audited (bench/chaos.py).

`python -m bench --only faults` runs all of them at once on 100 calls; these keep each class honest in every test run.
CHAOS_APP_DIR=<another checkout> runs them against that version of the app (its own dev host), e.g. the previous
release, to see which guarantees it lacked.
"""

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.chaos import ChaosPlan, ChaosResult, audit_call, chaos_stack, measure_chaos
from bench.instances import AppStack
from devhost.azurite import REPO_ROOT, Azurite

# Two app processes and real-time recoveries: tens of seconds in all, so run by `make test`, not `make quick`.
pytestmark = pytest.mark.slow

# Fast emulated time, short leases and grace, so a lost step is recovered within a few seconds of real time.
QUIET = ChaosPlan(
    calls=2,
    duplicate=0.0,
    late=0.0,
    reorder=0.0,
    drop=0.0,
    rest_failure=0.0,
    kill=False,
    time_scale=0.05,
    lease_seconds=1.5,
    grace_seconds=1.0,
    call_budget_seconds=60.0,
)


@pytest.fixture(scope="module")
def stack(azurite: Azurite) -> Iterator[AppStack]:
    app_dir = Path(os.environ.get("CHAOS_APP_DIR") or REPO_ROOT)
    with chaos_stack(QUIET, azurite=azurite, app_dir=app_dir) as running:
        yield running


def run(stack: AppStack, **faults: float | bool) -> ChaosResult:
    """The plan's calls under these faults: every call gets through, ends, and no action is sent twice."""
    plan = dataclasses.replace(QUIET, **faults)
    result = measure_chaos(stack, plan)
    # Checked first by what any version of the app can be measured on, then by this version's claim tags.
    assert (result.extra, result.lost, result.stuck, result.completed) == (0, 0, 0, plan.calls), result.problems
    assert result.duplicated == 0, result.problems
    return result


def test_every_callback_reaching_both_instances_at_once_acts_once(stack: AppStack) -> None:
    result = run(stack, duplicate=1.0)
    assert result.faults["callback"]["duplicated"] >= 10 and result.faults["eventgrid"]["duplicated"] == 2


def test_callbacks_re_sent_late_while_the_first_copy_is_still_sending_are_recognised(stack: AppStack) -> None:
    # ACS answering some requests 5xx keeps the first copy's sends in the SDK's retries while the late copy lands.
    result = run(stack, late=1.0, rest_failure=0.3)
    assert result.faults["callback"]["late"] >= 10


def test_reordered_callbacks_change_nothing(stack: AppStack) -> None:
    result = run(stack, reorder=0.5)
    assert result.faults["callback"]["reordered"] + result.faults["callback"]["flushed"] >= 3


def test_dropped_callbacks_are_made_up_for_by_the_watchdog(stack: AppStack) -> None:
    result = run(stack, drop=0.4)
    assert result.faults["callback"]["dropped"] >= 4


def test_failed_acs_requests_are_retried_without_repeating_anything(stack: AppStack) -> None:
    result = run(stack, rest_failure=0.3)
    assert sum(result.faults["rest"].values()) >= 3


def test_a_host_killed_mid_call_leaves_no_call_stuck(stack: AppStack) -> None:
    # Slowed by ACS answering some requests 5xx, the killed instance dies with sends still in flight.
    result = run(stack, kill=True, calls=4, rest_failure=0.3)
    assert len(result.kills) == 2  # killed, then restarted


def test_the_audit_counts_a_repeated_claim_and_extra_prompts() -> None:
    def request(operation: str, context: str) -> dict:
        return {
            "kind": "request",
            "summary": operation,
            "detail": {"status": 202, "body": {"operationContext": context}},
        }

    replayed = {"kind": "request", "summary": "AnswerCall", "detail": {"status": 200, "replayed": True, "body": {}}}
    timeline = [
        request("AnswerCall", "ivr"),
        replayed,
        request("CallMedia_Play", "greeting/1"),
        request("CallMedia_Recognize", "main-menu/1"),
        request("CallMedia_Recognize", "main-menu/1"),  # the same claim's prompt again: duplicated and extra
        request("CallMedia_Recognize", "order-number/2"),
        request("CallMedia_Play", "order-status/3"),
        request("CallMedia_Recognize", "main-menu/3"),
    ]

    audit = audit_call(timeline, completed=True, ended_in_state=True)

    assert audit.duplicated == ["CallMedia_Recognize(main-menu/1) x2"]
    assert audit.extra == ["CallMedia_Recognize(main-menu) x1"]
    assert not audit.lost
