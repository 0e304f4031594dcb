"""The emulator's web phone in a real headless Chromium: place a call to the IVR, press keys, hear the prompts change.

Set WEB_PAGE_SCREENSHOT=docs/emulator-web-page.png to save the picture the README shows.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.stack import LocalStack
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
    stack: LocalStack, control: EmulatorControl, browser_context: "playwright.BrowserContext"
) -> None:
    assert stack.emulator is not None
    expect = playwright.expect
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.emulator.url}/emulator/")
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
