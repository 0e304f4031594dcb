"""Helpers for the HTTP API scenarios: a small client of /api on the dev host (waiting lives in helpers.py)."""

from __future__ import annotations

from typing import Any

import requests

from devhost.stack import LocalStack
from tests.e2e.helpers import wait_until

ALICE = "8:acs:00000000-0000-4000-8000-000000000001_00000000-0000-4000-8000-0000000a11ce"
BOB = "+14255550141"
CAROL = "+14255550143"
CALLER_ID = "+18005550100"


def place(api: Api, **body: object) -> str:
    """POST /calls with body; the new call's connection id."""
    status, placed = api.post("/calls", body)
    assert status == 201, placed
    return placed["callConnectionId"]


def connected(api: Api, call_id: str, count: int = 2) -> dict:
    """The call once ACS reports it connected with `count` participants (the app's leg included)."""
    return wait_until(
        lambda: (v := api.call(call_id))["state"] == "connected" and len(v["participants"]) == count and v,
        f"call {call_id} to connect with {count} participants",
    )


class Api:
    """The app's HTTP API on the local stack; each method returns (status, JSON body or None)."""

    def __init__(self, stack: LocalStack) -> None:
        assert stack.devhost is not None
        self.base = f"{stack.devhost.url}/api"
        self.session = requests.Session()

    def request(self, method: str, path: str, body: Any = None, headers: dict | None = None) -> tuple[int, Any]:
        response = self.session.request(method, self.base + path, json=body, headers=headers, timeout=15)
        return response.status_code, response.json() if response.content else None

    def post(self, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return self.request("POST", path, body if body is not None else {}, **kwargs)

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def delete(self, path: str) -> tuple[int, Any]:
        return self.request("DELETE", path)

    def call(self, call_id: str) -> dict:
        status, body = self.get(f"/calls/{call_id}")
        assert status == 200, body
        return body


def callbacks(control: Any, call_id: str, event_type: str | None = None) -> list[dict]:
    """Callback events the emulator sent the app for a call (timeline entries), optionally of one type."""
    return [
        entry
        for entry in control.timeline(call_id)
        if entry["kind"] == "callback" and (event_type is None or entry["summary"] == event_type)
    ]


def requests_of(control: Any, call_id: str, operation: str) -> list[dict]:
    """The app's successful ACS requests of one operation (e.g. "CallMedia_SendDtmfTones") on a call."""
    return [
        entry["detail"]
        for entry in control.timeline(call_id)
        if entry["kind"] == "request" and entry["summary"] == operation and entry["detail"].get("status", 0) < 300
    ]
