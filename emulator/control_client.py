"""EmulatorControl: a small synchronous client of the emulator's control API, for pytest and scripts."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from .faults import FaultPlan

DEFAULT_URL = "http://127.0.0.1:8765"
URL_VARIABLE = "ACS_EMULATOR_URL"


class ControlApiError(Exception):
    """The emulator answered a control request with an error (status and its message), or could not be reached."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message if status is None else f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class PlacedCall:
    server_call_id: str
    correlation_id: str
    incoming_call_context: str


def _path_part(value: str) -> str:
    # serverCallIds are base64 and may hold "/" and "+"; raw ids hold ":" and "+".
    return quote(value, safe=":+=")


def _error_message(response: requests.Response) -> str:
    """The message of a control API error body, or the raw text when it has none."""
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return response.text


class EmulatorControl:
    """`EmulatorControl("http://127.0.0.1:8765").place_call("+15551230000", "+18005550100")` and friends."""

    def __init__(self, base_url: str | None = None, *, timeout: float = 10.0, ca_file: str | None = None) -> None:
        """`ca_file`: the certificate of a `--tls` emulator (its --cert-dir/emulator-cert.pem) for https URLs."""
        self.base_url = (base_url or os.environ.get(URL_VARIABLE) or DEFAULT_URL).rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        # Per request: a session-wide verify would lose to REQUESTS_CA_BUNDLE in the environment.
        self._verify: str | bool = ca_file or True

    def _request(
        self, method: str, path: str, body: dict | None = None, params: dict | None = None, *, raw: bool = False
    ) -> Any:
        try:
            response = self._send(method, path, body, params)
        except requests.ConnectionError:
            if not self._switched_to_https():
                raise ControlApiError(None, f"cannot reach the emulator at {self.base_url}") from None
            response = self._send(method, path, body, params)
        except requests.RequestException as error:
            # urllib3's nested exception text says nothing a person can act on; its class name does (ReadTimeout...).
            raise ControlApiError(
                None, f"cannot reach the emulator at {self.base_url} ({type(error).__name__})"
            ) from None
        if response.status_code >= 400:
            raise ControlApiError(response.status_code, _error_message(response))
        if raw:
            return response.content
        return response.json() if response.content else None

    def _send(self, method: str, path: str, body: dict | None, params: dict | None) -> requests.Response:
        url = f"{self.base_url}/emulator{path}"
        return self._session.request(method, url, json=body, params=params, timeout=self.timeout, verify=self._verify)

    def _switched_to_https(self) -> bool:
        """An http:// URL to a `--tls` emulator is cut off mid-handshake (RemoteDisconnected): if the same address
        answers over https, use that from now on."""
        if not self.base_url.startswith("http://"):
            return False
        https = "https://" + self.base_url.removeprefix("http://")
        try:
            self._session.get(f"{https}/emulator/health", timeout=self.timeout, verify=self._verify)
        except requests.RequestException:
            return False
        self.base_url = https
        return True

    def health(self) -> dict:
        return self._request("GET", "/health")

    def reset(self) -> None:
        self._request("POST", "/reset")

    def set_behaviour(self, identity: str, answer: str = "answer", answer_after_ms: int = 0) -> dict:
        """How `identity` (E.164 number or raw id) behaves when dialled: answer, decline, busy or never."""
        body = {"answer": answer, "answerAfterMs": answer_after_ms}
        return self._request("PUT", f"/people/{_path_part(identity)}", body)

    def people(self) -> dict:
        return self._request("GET", "/people")

    def place_call(
        self, from_: str, to: str, custom_context: dict | None = None, display_name: str | None = None
    ) -> PlacedCall:
        """A person calls the app; the app gets IncomingCall through its Event Grid subscription."""
        body: dict[str, Any] = {"from": from_, "to": to}
        if custom_context:
            body["customContext"] = custom_context
        if display_name is not None:
            body["displayName"] = display_name
        placed = self._request("POST", "/calls", body)
        return PlacedCall(placed["serverCallId"], placed["correlationId"], placed["incomingCallContext"])

    def press(self, call_id: str, who: str, tones: str | list[str]) -> dict:
        """`who` presses keys: "12#" or ["one", "two", "pound"]."""
        return self._person(call_id, who, "dtmf", {"tones": tones})

    def say(self, call_id: str, who: str, text: str) -> dict:
        return self._person(call_id, who, "speech", {"text": text})

    def hang_up(self, call_id: str, who: str) -> dict:
        return self._person(call_id, who, "hangup", {})

    def answer(self, call_id: str, who: str) -> dict:
        """`who`, ringing with behaviour "manual" (e.g. an agent), picks up."""
        return self._person(call_id, who, "answer", {})

    def decline(self, call_id: str, who: str) -> dict:
        """`who`, ringing with behaviour "manual", refuses the call."""
        return self._person(call_id, who, "decline", {})

    def _person(self, call_id: str, who: str, action: str, body: dict) -> dict:
        return self._request("POST", f"/calls/{_path_part(call_id)}/participants/{_path_part(who)}/{action}", body)

    def calls(self) -> list[dict]:
        return self._request("GET", "/calls")

    def call(self, call_id: str) -> dict:
        """The emulator's view of a call, by serverCallId or callConnectionId."""
        return self._request("GET", f"/calls/{_path_part(call_id)}")

    def timeline(self, call_id: str) -> list[dict]:
        return self._request("GET", f"/calls/{_path_part(call_id)}/timeline")

    def wait_for_call(
        self, call_id: str, predicate: Callable[[dict], bool] | str, timeout: float = 10.0, interval: float = 0.02
    ) -> dict:
        """Poll the call view until `predicate(view)` holds (a string means `view["state"] == it`); TimeoutError."""
        check = predicate if callable(predicate) else (lambda view: view["state"] == predicate)
        deadline = time.monotonic() + timeout
        while True:
            view = self.call(call_id)
            if check(view):
                return view
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"call {call_id} did not reach the expected state within {timeout}s; it is {view['state']}"
                )
            time.sleep(interval)

    def add_subscription(self, url: str, event_types: list[str] | None = None) -> dict:
        body: dict[str, Any] = {"url": url}
        if event_types is not None:
            body["eventTypes"] = event_types
        return self._request("POST", "/eventgrid/subscriptions", body)

    def remove_subscription(self, url: str) -> None:
        self._request("DELETE", "/eventgrid/subscriptions", params={"url": url})

    def subscriptions(self) -> list[dict]:
        return self._request("GET", "/eventgrid/subscriptions")

    def deliveries(self, kind: str | None = None) -> list[dict]:
        return self._request("GET", "/deliveries", params={"kind": kind} if kind else None)

    def recordings(self, call_id: str | None = None) -> list[dict]:
        """Every recording, or those of one call (serverCallId or callConnectionId), with state and file."""
        if call_id is None:
            return self._request("GET", "/recordings")["recordings"]
        view = self.call(call_id)
        return self._request("GET", "/recordings", params={"serverCallId": view["serverCallId"]})["recordings"]

    def recording_content(self, recording_id: str) -> bytes:
        """The recording's WAV, wherever the emulator wrote it (its own store or the app's container)."""
        return self._request("GET", f"/recordings/{_path_part(recording_id)}/content", raw=True)

    def redeliver(self, delivery_id: int) -> dict:
        """POST a delivery's events again to the same URL (a fresh token), as a retry would; returns its outcome."""
        return self._request("POST", f"/deliveries/{delivery_id}/redeliver")

    def faults(self) -> dict:
        """The fault plan in force (with its seed), counters of what was injected, the published signing keys."""
        return self._request("GET", "/faults")

    def set_faults(self, plan: FaultPlan | dict[str, Any] | None = None) -> dict:
        """Replace the fault plan (a FaultPlan or its JSON form; None turns every fault off); returns faults()."""
        body = plan.to_dict() if isinstance(plan, FaultPlan) else dict(plan or {})
        return self._request("PUT", "/faults", body)

    def fault_log(self, channel: str | None = None) -> list[dict]:
        """Every injected fault, oldest first; channel: callback, eventgrid, rest or keys."""
        return self._request("GET", "/faults/log", params={"channel": channel} if channel else None)

    def rotate_key(self) -> dict:
        """Sign callback tokens with a new key from now on; returns {current, published} kids."""
        return self._request("POST", "/faults/rotate-key")

    def close(self) -> None:
        self._session.close()
