"""The fault plan in its three forms (flags, ACS_EMULATOR_* variables, JSON), and routing to app instances."""

import re

import pytest

from emulator import cli
from emulator.config import build_parser, config_from_args
from emulator.faults import FaultPlan
from emulator.faults.injector import route
from emulator.faults.plan import KNOBS


def test_flags_build_the_plan() -> None:
    config = config_from_args(
        [
            "--fault-seed", "7", "--fault-duplicate", "1", "--fault-late", "0.1", "--fault-late-delay", "0.5,3",
            "--fault-reorder", "0.05", "--fault-drop", "0.02", "--fault-rest", "0.1",
            "--fault-rest-statuses", "503:3,429", "--fault-retry-after", "2", "--fault-scope", "callback",
            "--fault-drop-scope", "callback,eventgrid", "--rotate-key-every", "60", "--key-overlap", "30",
            "--app-instance", "http://127.0.0.1:7071", "--app-instance", "http://127.0.0.1:7072/",
        ]
    )  # fmt: skip
    assert config.faults == FaultPlan(
        seed=7,
        duplicate=1.0,
        late=0.1,
        late_delay_seconds=(0.5, 3.0),
        reorder=0.05,
        drop=0.02,
        rest_failure=0.1,
        rest_statuses={503: 3.0, 429: 1.0},
        retry_after_seconds=2,
        scope=frozenset({"callback"}),
        drop_scope=frozenset({"callback", "eventgrid"}),
        key_rotation_seconds=60.0,
        key_overlap_seconds=30.0,
        app_instances=("http://127.0.0.1:7071", "http://127.0.0.1:7072"),
    )


def test_environment_variables_build_the_plan_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACS_EMULATOR_FAULT_DUPLICATE", "0.5")
    monkeypatch.setenv("ACS_EMULATOR_FAULT_DROP", "0.25")
    monkeypatch.setenv("ACS_EMULATOR_APP_INSTANCES", "http://127.0.0.1:7071 http://127.0.0.1:7072")
    monkeypatch.setenv("ACS_EMULATOR_KEY_OVERLAP", "keep")
    plan = config_from_args(["--fault-drop", "0.75"]).faults
    assert (plan.duplicate, plan.drop, plan.key_overlap_seconds) == (0.5, 0.75, None)
    assert plan.app_instances == ("http://127.0.0.1:7071", "http://127.0.0.1:7072")


def test_a_bad_environment_variable_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACS_EMULATOR_FAULT_DROP", "often")
    with pytest.raises(ValueError, match=r"^ACS_EMULATOR_FAULT_DROP must be a number, got 'often'$"):
        config_from_args([])


def test_defaults_change_nothing() -> None:
    plan = config_from_args([]).faults
    assert plan == FaultPlan()
    assert (plan.duplicate, plan.late, plan.reorder, plan.drop, plan.rest_failure) == (0, 0, 0, 0, 0)
    assert plan.app_instances == () and plan.key_rotation_seconds is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault-duplicate", "1.5"], "--fault-duplicate must be a fraction from 0 to 1, got '1.5'"),
        (["--fault-late-delay", "2"], "--fault-late-delay must be MIN,MAX seconds"),
        (["--fault-rest-statuses", "503:0"], "--fault-rest-statuses must give each status a weight above 0"),
        (["--fault-scope", "sms"], "--fault-scope must name only callback, eventgrid (or none), got sms"),
        (["--rotate-key-every", "0"], "--rotate-key-every must be more than 0 seconds, or off"),
        (["--app-instance", "127.0.0.1:7071"], "--app-instance must be base URLs"),
        (["--fault-seed", "x"], "--fault-seed must be an integer, got 'x'"),
    ],
)
def test_a_bad_flag_is_a_clear_error(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        config_from_args(argv)
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.startswith(f"error: {message}")


def test_every_knob_has_a_flag_an_environment_variable_and_a_json_name() -> None:
    help_text = " ".join(build_parser().format_help().split())
    for knob in KNOBS:
        assert knob.flag in help_text
        assert knob.env_name.startswith("ACS_EMULATOR_") and knob.env_name in help_text
    assert set(FaultPlan().to_dict()) == {knob.json_name for knob in KNOBS}


def test_json_form_round_trips_and_takes_json_values() -> None:
    plan = FaultPlan(seed=3, duplicate=1, rest_statuses=[503, 429], scope=["eventgrid"], late_delay_seconds=[1, 2])
    assert FaultPlan.from_dict(plan.to_dict()) == plan
    assert plan.to_dict()["restStatuses"] == {"503": 1.0, "429": 1.0}
    assert FaultPlan.from_dict({"keyRotationSeconds": None, "drop": 0.5}) == FaultPlan(drop=0.5)
    with pytest.raises(ValueError, match="unknown fault plan fields dupliacte"):
        FaultPlan.from_dict({"dupliacte": 1})


@pytest.mark.parametrize(
    ("url", "instance", "expected"),
    [
        ("http://127.0.0.1:9/api/callbacks?code=k", "http://127.0.0.1:7072", "http://127.0.0.1:7072/api/callbacks?code=k"),
        ("https://app.example/runtime/webhooks/eventgrid?functionName=f", "http://127.0.0.1:7071",
         "http://127.0.0.1:7071/runtime/webhooks/eventgrid?functionName=f"),
        ("http://127.0.0.1:9/callbacks", None, "http://127.0.0.1:9/callbacks"),
    ],
)  # fmt: skip
def test_route_rewrites_scheme_host_and_port_only(url: str, instance: str | None, expected: str) -> None:
    assert route(url, instance) == expected
