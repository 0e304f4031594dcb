"""Send generated requests to a running dev host and count what no request may get: a 5xx, or an exception's text.

Four sources, every route: the HTTP API's operations from its OpenAPI document (schemathesis, valid and invalid
cases), raw hostile bodies on the same operations, signed ACS callbacks (/api/callbacks) and Event Grid deliveries
(the webhook of each Event Grid function). The document is the one the running app serves (GET /api/openapi.json),
generated from its models.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import inspect
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import azure.core.exceptions
import jwt.exceptions
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from schemathesis import GenerationMode
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok
from schemathesis.schemas import APIOperation

from fuzz.strategies import POISON_TEXT, RAW_BODIES, callback_bodies, event_grid_bodies

TIMEOUT_SECONDS = 30
EXCERPT_CHARS = 300
_PATH_PARAMETER = re.compile(r"{\w+}")


def _exception_names() -> frozenset[str]:
    """Names of the exception classes whose text must never reach a response body."""
    modules = (builtins, azure.core.exceptions, jwt.exceptions, aiohttp, json)
    names = {
        name
        for module in modules
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }
    return frozenset(names | {"TableTransactionError", "RequestTooLargeError"})


_EXCEPTION_TEXT = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|Exception while executing|\b(?:"
    + "|".join(sorted(_exception_names(), key=len, reverse=True))
    + r")\b"
)


def exception_text(body: str) -> str | None:
    """The first piece of an exception's text (a traceback, a Python or SDK exception class) in body, if any."""
    found = _EXCEPTION_TEXT.search(body)
    return found.group(0) if found else None


@dataclass(frozen=True)
class Outcome:
    route: str
    status: int
    excerpt: str


@dataclass
class FuzzReport:
    """Every answer, counted by status and route; the answers no request may get, kept with an excerpt."""

    statuses: Counter[int] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    server_errors: list[Outcome] = field(default_factory=list)
    exception_texts: list[Outcome] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def ok(self) -> bool:
        return not self.server_errors and not self.exception_texts

    def record(self, route: str, status: int, body: str) -> None:
        """status 0: no answer at all (the connection failed), counted with the 5xx."""
        self.statuses[status] += 1
        self.routes[route] += 1
        excerpt = body[:EXCERPT_CHARS]
        if status == 0 or status >= 500:
            self.server_errors.append(Outcome(route, status, excerpt))
        if found := exception_text(body):
            self.exception_texts.append(Outcome(route, status, f"{found!r} in {excerpt!r}"))

    def summary(self) -> str:
        lines = [
            f"requests: {self.requests}",
            f"5xx (or no answer): {len(self.server_errors)}",
            f"bodies with exception text: {len(self.exception_texts)}",
            "by status: " + ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items())),
            f"routes: {len(self.routes)}",
            *(f"  {count:6d}  {route}" for route, count in sorted(self.routes.items())),
        ]
        for outcome in [*self.server_errors, *self.exception_texts][:20]:
            lines.append(f"FAIL {outcome.status} {outcome.route}: {outcome.excerpt}")
        return "\n".join(lines)


def load_document(base_url: str) -> dict[str, Any]:
    """The OpenAPI document the app serves at /api/openapi.json."""
    response = requests.get(f"{base_url}/api/openapi.json", timeout=TIMEOUT_SECONDS)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def _operation(result: Ok[APIOperation] | Err[InvalidSchema]) -> APIOperation:
    """An operation of the document; one schemathesis cannot read stops the run, naming it."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


def _generate(strategy: st.SearchStrategy[Any], examples: int, send: Callable[[Any], None]) -> None:
    """Draw `examples` values of strategy (no shrinking: nothing fails inside) and send each."""

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: Any) -> None:
        send(value)

    # HypothesisException: an operation with nothing left to vary (e.g. no invalid form of its parameters).
    with contextlib.suppress(HypothesisException):
        run()


class Fuzzer:
    """Generates and sends requests to one running dev host, recording every answer in report."""

    def __init__(
        self,
        base_url: str,
        *,
        mint_token: Callable[[], str],
        event_grid_functions: Sequence[str],
        report: FuzzReport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.mint_token = mint_token
        self.event_grid_functions = tuple(event_grid_functions)
        self.report = report or FuzzReport()
        self.session = requests.Session()
        document = load_document(self.base_url)
        self.api_base = self.base_url + (document.get("servers") or [{"url": "/api"}])[0]["url"]
        self.schema = schemathesis.openapi.from_dict(document)
        self.operations = [_operation(result) for result in self.schema.get_all_operations()]

    def close(self) -> None:
        self.session.close()

    def run(self, *, api: int, raw: int, callbacks: int, event_grid: int) -> FuzzReport:
        """api and raw: examples per operation (api: per generation mode); the others: requests in all."""
        self.api(api)
        self.raw(raw)
        self.callbacks(callbacks)
        self.event_grid(event_grid)
        return self.report

    def api(self, examples_per_mode: int) -> None:
        """schemathesis cases, valid and invalid, for every operation of the document."""
        for operation in self.operations:
            route = f"{operation.method.upper()} {operation.path}"
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _generate(operation.as_strategy(mode), examples_per_mode, functools.partial(self._call, route))

    def _call(self, route: str, case: Any) -> None:
        try:
            response = case.call(base_url=self.api_base, session=self.session, timeout=TIMEOUT_SECONDS)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError, ValueError):
            return  # the client itself cannot send it (e.g. a header that is not Latin-1): no request was made
        except requests.RequestException as exc:
            self.report.record(route, 0, str(exc))
            return
        self.report.record(route, response.status_code, response.content.decode("utf-8", "replace"))

    def raw(self, examples: int) -> None:
        """Hostile raw bodies and path parameters on every operation of the document."""
        for operation in self.operations:
            count = len(_PATH_PARAMETER.findall(operation.path))
            strategy = st.tuples(RAW_BODIES, st.lists(PATH_VALUES, min_size=count, max_size=count))
            _generate(strategy, examples, functools.partial(self._send_raw, operation.method.upper(), operation.path))

    def _send_raw(self, method: str, template: str, drawn: tuple[bytes, list[str]]) -> None:
        body, values = drawn
        path = template
        for value in values:
            encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
            path = _PATH_PARAMETER.sub(encoded, path, count=1)  # quote() leaves no backslash: taken literally
        route = f"{method} {template}"
        self._send(route, method, self.api_base + path, body, {"Content-Type": "application/json"})

    def callbacks(self, examples: int) -> None:
        """ACS callbacks, nearly all carrying a fresh genuine token, so the parsers and handlers are what is tried."""
        tokens = st.sampled_from(["genuine"] * 9 + ["none", "garbage"])

        def send(drawn: tuple[bytes, str]) -> None:
            body, kind = drawn
            headers = {"Content-Type": "application/json"}
            if kind != "none":
                headers["Authorization"] = f"Bearer {self.mint_token() if kind == 'genuine' else 'x.y.z'}"
            self._send("POST /api/callbacks", "POST", f"{self.base_url}/api/callbacks", body, headers)

        _generate(st.tuples(callback_bodies(), tokens), examples, send)

    def event_grid(self, examples: int) -> None:
        """Deliveries to every Event Grid function's webhook, in both schemas, mostly as Notifications."""
        kinds = st.sampled_from(["Notification"] * 8 + ["SubscriptionValidation", "Unsubscribe", "Bogus"])
        names = st.sampled_from(self.event_grid_functions)

        def send(drawn: tuple[bytes, str, str]) -> None:
            body, kind, name = drawn
            url = f"{self.base_url}/runtime/webhooks/eventgrid?functionName={name}"
            headers = {"Content-Type": "application/json", "aeg-event-type": kind}
            self._send(f"POST eventgrid {name}", "POST", url, body, headers)

        _generate(st.tuples(event_grid_bodies(), kinds, names), examples, send)

    def _send(self, route: str, method: str, url: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            response = self.session.request(method, url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            self.report.record(route, 0, str(exc))
            return
        self.report.record(route, response.status_code, response.content.decode("utf-8", "replace"))


# Path parameters as an attacker writes them: real-looking ids, traversal, look-alike digits, surrogates.
PATH_VALUES = st.one_of(
    st.sampled_from(["call-1", "4:+14255550101", "+14255550101", "8:acs:res_user", "0" * 200]),
    POISON_TEXT,
    st.text(max_size=20),
)
