"""docs/api.http, the REST Client file, sent request by request to the local stack: none of them fails.

The file's variables point at the usual ports; here they point at this run's stack. A named request's response
feeds the later ones (`{{placed.response.body.callConnectionId}}`), as in the REST Client.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl

HTTP_FILE = Path(__file__).resolve().parents[2] / "docs" / "api.http"
_REFERENCE = re.compile(r"\{\{([^}]+)\}\}")


@dataclass
class HttpRequest:
    name: str | None
    method: str
    url: str
    headers: dict[str, str]
    body: str


def parse(text: str) -> tuple[dict[str, str], list[HttpRequest]]:
    """File variables (`@name = value`) and the requests between `###` separators."""
    variables: dict[str, str] = {}
    parsed = []
    for block in text.split("###"):
        lines = block.splitlines()
        name = None
        request_line = None
        headers: dict[str, str] = {}
        body: list[str] = []
        for index, line in enumerate(lines):
            if match := re.match(r"^@(\w+)\s*=\s*(.*)$", line):
                variables[match[1]] = match[2].strip()
            elif match := re.match(r"^#\s*@name\s+(\w+)", line):
                name = match[1]
            elif line.startswith("#") or (request_line is None and not re.match(r"^[A-Z]+ ", line)):
                continue
            elif request_line is None:
                request_line = line
                for header in lines[index + 1 :]:
                    if not header.strip():
                        break
                    key, _, value = header.partition(":")
                    headers[key.strip()] = value.strip()
                body = lines[index + 1 + len(headers) + 1 :]
                break
        if request_line:
            method, url = request_line.split(" ", 1)
            parsed.append(HttpRequest(name, method, url.strip(), headers, "\n".join(body).strip()))
    return variables, parsed


def resolve(text: str, variables: dict[str, str], responses: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        reference = match[1].strip()
        if reference in variables:
            return resolve(variables[reference], variables, responses)
        name, _, path = reference.partition(".response.body.")
        found = responses[name]
        for key in path.split("."):
            found = found[key]
        return str(found)

    return _REFERENCE.sub(value, text)


def test_every_request_of_the_http_file_succeeds(stack: LocalStack, control: EmulatorControl) -> None:
    assert stack.devhost and stack.emulator
    variables, http_requests = parse(HTTP_FILE.read_text())
    variables |= {"api": f"{stack.devhost.url}/api", "emulator": stack.emulator.url}
    assert len(http_requests) >= 10
    responses: dict[str, Any] = {}
    for request in http_requests:
        url = resolve(request.url, variables, responses)
        body = resolve(request.body, variables, responses).encode() or None
        headers = {key: resolve(value, variables, responses) for key, value in request.headers.items()}
        answer = requests.request(request.method, url, data=body, headers=headers, timeout=30)
        assert answer.status_code < 400, f"{request.method} {url} -> {answer.status_code} {answer.text}"
        if request.name:
            responses[request.name] = answer.json()
        if request.name == "placed":
            # A person answers at once, but the app hears so a moment later; the file is sent by hand, slower.
            control.wait_for_call(answer.json()["callConnectionId"], "connected", timeout=30)
    # The file's hang-up ended its call; its reminder went out to the number it names.
    assert control.wait_for_call(responses["placed"]["callConnectionId"], "ended")["state"] == "ended"
    assert responses["reminder"]["to"] == "+14255550111"
