"""Import function_app.py and describe its functions (triggers, HTTP routes, parameters) for the devhost server."""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.functions import FunctionRegister
from azure.functions.decorators.utils import StringifyEnumJsonEncoder

from devhost.settings import DevHostError

log = logging.getLogger("devhost")

HTTP_TRIGGER = "httpTrigger"
EVENT_GRID_TRIGGER = "eventGridTrigger"
TIMER_TRIGGER = "timerTrigger"
SUPPORTED_TRIGGERS = (HTTP_TRIGGER, EVENT_GRID_TRIGGER, TIMER_TRIGGER)
DEFAULT_SCRIPT_FILE = "function_app.py"

_module_counter = itertools.count(1)

# A route parameter: {name}, {name?}, {name=default}, {*rest}; `:constraint`s are parsed only to be refused.
_PARAMETER = re.compile(
    r"\{(?P<star>\*{1,2})?(?P<name>[^{}:?=*]+)(?P<constraints>(?::[^{}?=]+)*)(?P<opt>\?|=[^{}]*)?\}"
)


@dataclass(frozen=True)
class RouteTemplate:
    """A compiled Functions route template such as `calls/{callId}/events/{kind?}` or `files/{*path}`."""

    template: str
    pattern: re.Pattern[str]
    names: dict[str, str]
    defaults: dict[str, str]
    precedence: tuple[int, ...]

    def match(self, path: str) -> dict[str, str] | None:
        """Route parameters if path (relative to the route prefix, without a leading slash) matches, else None."""
        found = self.pattern.fullmatch("/" + path.strip("/"))
        if found is None:
            return None
        params = dict(self.defaults)
        params.update({self.names[group]: value for group, value in found.groupdict().items() if value is not None})
        return params


def compile_route(template: str) -> RouteTemplate:
    """Compile a route template; literals match case-insensitively and a trailing slash is ignored, as in ASP.NET.

    Route constraints (`{id:int}`) are refused with a clear error rather than half-supported: no route of the app
    uses one, and one silently ignored would match requests Azure answers with a 404.
    """
    names: dict[str, str] = {}
    defaults: dict[str, str] = {}
    parts: list[str] = []
    precedence: list[int] = []
    for segment in template.strip("/").split("/") if template.strip("/") else []:
        constrained = [p.group(0) for p in _PARAMETER.finditer(segment) if p["constraints"]]
        if constrained:
            raise DevHostError(
                f"route {template!r}: the dev host does not support route constraints ({', '.join(constrained)}); "
                "take the parameter unconstrained and validate it in the function"
            )
        whole = _PARAMETER.fullmatch(segment)
        if whole and (whole["star"] or whole["opt"]):
            group = f"p{len(names)}"
            names[group] = whole["name"]
            if whole["opt"] and whole["opt"].startswith("="):
                defaults[whole["name"]] = whole["opt"][1:]
            value = ".*" if whole["star"] else "[^/]+"
            parts.append(f"(?:/(?P<{group}>{value}))?")
            precedence.append(4 if whole["star"] else 3)
            continue
        pattern, position, rank = "", 0, 0
        for parameter in _PARAMETER.finditer(segment):
            group = f"p{len(names)}"
            names[group] = parameter["name"]
            pattern += re.escape(segment[position : parameter.start()])
            pattern += f"(?P<{group}>[^/]+)"
            position = parameter.end()
            rank = 2
        parts.append("/" + pattern + re.escape(segment[position:]))
        precedence.append(rank)
    regex = re.compile("".join(parts) or "/", re.IGNORECASE)
    return RouteTemplate(template, regex, names, defaults, tuple(precedence))


@dataclass
class FunctionSpec:
    """One function of the app as devhost serves it."""

    name: str
    trigger_type: str
    trigger_arg: str
    user_function: Callable[..., Any]
    bindings: list[dict[str, Any]]
    route: RouteTemplate | None = None
    methods: frozenset[str] | None = None
    schedule: str | None = None  # a timer trigger's NCRONTAB schedule, possibly a %SETTING% expression
    run_on_startup: bool = False
    unsupported_parameters: list[str] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        return self.trigger_type in SUPPORTED_TRIGGERS

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.user_function)

    def unsupported_reason(self) -> str | None:
        """Why devhost cannot invoke this function, or None when it can."""
        if not self.unsupported_parameters:
            return None
        kinds = {binding["name"]: binding["type"] for binding in self.bindings}
        described = ", ".join(
            f"{name!r} ({kinds[name]} binding)" if name in kinds else repr(name) for name in self.unsupported_parameters
        )
        return (
            f"function {self.name!r} has parameter(s) {described} that devhost cannot provide; "
            f"it only passes the trigger argument {self.trigger_arg!r}"
        )


def load_module(app_dir: Path) -> Any:
    """Import the app's script (PYTHON_SCRIPT_FILE_NAME, default function_app.py) under a unique module name."""
    script = app_dir / os.environ.get("PYTHON_SCRIPT_FILE_NAME", DEFAULT_SCRIPT_FILE)
    if not script.is_file():
        raise DevHostError(f"no {script.name} in {app_dir}")
    # A unique name keeps several apps (and the repo's own `function_app` module) apart in one interpreter.
    module_name = f"_devhost_app{next(_module_counter)}_{script.stem}"
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    spec = importlib.util.spec_from_file_location(module_name, script)
    if spec is None or spec.loader is None:
        raise DevHostError(f"cannot load {script} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        log.exception("importing %s failed", script)
        raise DevHostError(f"importing {script} failed: {type(exc).__name__}: {exc}") from exc
    return module


def find_function_app(module: Any) -> FunctionRegister:
    """The single FunctionApp (any FunctionRegister) at module level, as the Python worker requires."""
    apps = list({id(value): value for value in vars(module).values() if isinstance(value, FunctionRegister)}.values())
    if not apps:
        raise DevHostError(f"{module.__file__} defines no FunctionApp instance at module level")
    if len(apps) > 1:
        raise DevHostError(f"{module.__file__} defines {len(apps)} FunctionApp instances; the worker allows only one")
    return apps[0]


def _plain(binding: dict[str, Any]) -> dict[str, Any]:
    """A binding's function.json form with enums as their names ("ANONYMOUS", "IN"), ready for JSON output."""
    return json.loads(json.dumps(binding, cls=StringifyEnumJsonEncoder))


def describe_functions(function_app: FunctionRegister) -> list[FunctionSpec]:
    """FunctionSpecs for every function of the app, in declaration order."""
    try:
        functions = function_app.get_functions()
    except ValueError as exc:
        raise DevHostError(f"function indexing failed: {exc}") from None
    specs = []
    for function in functions:
        trigger = function.get_trigger()
        if trigger is None:
            raise DevHostError(f"function {function.get_function_name()!r} has no trigger")
        trigger_dict = _plain(trigger.get_dict_repr())
        bindings = [_plain(binding.get_dict_repr()) for binding in function.get_bindings()]
        spec = FunctionSpec(
            name=str(function.get_function_name()),
            trigger_type=trigger_dict["type"],
            trigger_arg=trigger_dict["name"],
            user_function=function.get_user_function(),
            bindings=bindings,
        )
        if spec.trigger_type == HTTP_TRIGGER:
            spec.route = compile_route(trigger_dict.get("route") or spec.name)
            methods = trigger_dict.get("methods")
            spec.methods = frozenset(str(method).upper() for method in methods) if methods else None
        if spec.trigger_type == TIMER_TRIGGER:
            spec.schedule = str(trigger_dict.get("schedule", ""))
            spec.run_on_startup = bool(trigger_dict.get("runOnStartup", False))
        binding_names = {binding["name"] for binding in bindings}
        variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        spec.unsupported_parameters = [
            parameter.name
            for parameter in inspect.signature(spec.user_function).parameters.values()
            if parameter.name != spec.trigger_arg
            and parameter.kind not in variadic
            and (parameter.name in binding_names or parameter.default is inspect.Parameter.empty)
        ]
        specs.append(spec)
    return specs
