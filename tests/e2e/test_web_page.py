"""The emulator's web phone in a real headless Chromium: place a call to the IVR, press keys, hear the prompts change.

Set WEB_PAGE_SCREENSHOT=docs/emulator-web-page.png to save the picture the README shows.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.azurite import free_ports, wait_for_port
from devhost.stack import PORT_OPTIONS
from emulator.control_client import EmulatorControl

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's own browser download is never used: Debian's chromium, quiet and without a sandbox (CI runs as root).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 15_000
ROOT = Path(__file__).resolve().parents[2]
# A person's pace, not a script's: the IVR's 5 s input timeout lasts 1.5 s, time enough to click after "listening".
# (The e2e stack's 0.05 leaves 250 ms, which a loaded machine's browser round trip can miss.)
TIME_SCALE = "0.3"


@pytest.fixture(scope="module")
def stack_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m devhost.stack --no-demo` in a process of its own, on free ports: the stack a person opens."""
    variables = [variable for *_, variable in PORT_OPTIONS]
    ports = {variable: str(port) for variable, port in zip(variables, free_ports(len(variables)), strict=True)}
    log = (tmp_path_factory.mktemp("web-page") / "stack.log").open("w")
    stack = subprocess.Popen(
        [sys.executable, "-m", "devhost.stack", "--no-demo", "--time-scale", TIME_SCALE],
        cwd=ROOT, env={**os.environ, **ports}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        for variable in ("ACS_EMULATOR_PORT", "DEVHOST_PORT"):
            wait_for_port("127.0.0.1", int(ports[variable]), timeout=60)
        yield f"http://127.0.0.1:{ports['ACS_EMULATOR_PORT']}"
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        stack.wait(30)
        log.close()


@pytest.fixture(scope="module")
def browser_context() -> Iterator["playwright.BrowserContext"]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: `apt-get install -y chromium` (.ci/run and make test do)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with playwright.sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 900},
            )
            yield context
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_a_call_from_the_page_hears_the_ivr_and_answers_it_with_keys(
    stack_url: str, browser_context: "playwright.BrowserContext"
) -> None:
    control = EmulatorControl(stack_url)
    expect = playwright.expect
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack_url}/emulator/")
    expect(page.locator("#feed-state")).to_have_text("live", timeout=WAIT_MS)

    page.fill("#from", "+14255550123")
    page.fill("#to", "+18005550100")
    page.click("#call")
    heard = page.locator("#heard")
    expect(heard).to_contain_text("Thank you for calling Contoso.", timeout=WAIT_MS)
    expect(heard).to_contain_text("press 1 or say order status", timeout=WAIT_MS)
    expect(page.locator("#calls li.selected .badge")).to_have_text("connected", timeout=WAIT_MS)

    expect(page.locator("#listening")).to_have_text("listening", timeout=WAIT_MS)
    page.click("#keypad button[data-key='1']")
    expect(heard).to_have_text("Please key in your order number, followed by the pound key.", timeout=WAIT_MS)

    expect(page.locator("#listening")).to_have_text("listening", timeout=WAIT_MS)
    page.fill("#phrase", "12345#")
    page.click("#keys")
    expect(heard).to_contain_text("Order 1 2 3 4 5 is out for delivery.", timeout=WAIT_MS)

    # The timeline shows the requests and the callbacks with their delivery outcome, live.
    timeline = page.locator("#timeline tbody")
    expect(timeline).to_contain_text("RecognizeCompleted: keys one two three four five [order-number", timeout=WAIT_MS)
    expect(timeline.locator("tr.callback td.delivery .ok").first).to_contain_text("✓ 200", timeout=WAIT_MS)
    if target := os.environ.get("WEB_PAGE_SCREENSHOT"):
        page.screenshot(path=target)

    page.click("#hangup")
    expect(page.locator("#call-title")).to_contain_text("ended", timeout=WAIT_MS)
    [call] = control.calls()
    assert call["state"] == "ended"
    presses = [e["summary"] for e in control.timeline(call["serverCallId"]) if e["kind"] == "person"]
    assert presses[1:] == [
        "4:+14255550123 pressed one",
        "4:+14255550123 pressed one two three four five pound",
        "4:+14255550123 hung up",
        "4:+14255550123 left",
    ]
    assert errors == []
