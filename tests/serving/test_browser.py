"""The web demo in a real headless browser (the system Chromium, driven by Playwright):
load the page, upload an image, ask, see the streamed answer appear (the same text the
API gives), ask again with the history, drop another image, reset."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from tests.serving.helpers import ask, data_url, post

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)
CHROMIUM = os.environ.get("INSTRUCTVL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: apt-get install chromium (or set INSTRUCTVL_CHROMIUM to its path); "
    "make test installs it where apt-get can",
)
QUESTION = "what colour is the square?"
TOKENS = 12

DROP = """([name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "image/png" }));
  document.getElementById("drop-zone").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
}"""


@pytest.fixture(scope="module")
def page():
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1200, "height": 800})
        tab.set_default_timeout(30_000)
        yield tab
        browser.close()


def answers(page) -> list[str]:
    return page.locator(".msg.assistant[data-done=true]").all_inner_texts()


def test_upload_ask_stream_follow_up_drop_and_reset(server, page, images, tmp_path):
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(server)
    assert page.locator("#model-name").inner_text() == "tiny"

    page.set_input_files("#image-input", images[0])
    page.wait_for_selector("#drop-zone img")
    assert "New image: img0.png" in page.locator(".msg.note").inner_text()
    page.fill("#max-tokens", str(TOKENS))
    page.fill("#prompt", QUESTION)
    page.click("#send")
    page.wait_for_selector(".msg.assistant[data-done=true]")
    api = post(server, ask(QUESTION, data_url(images[0]), max_tokens=TOKENS))[2]["choices"][0]["message"]["content"]
    assert answers(page) == [api]
    assert page.locator(".msg.user img").count() == 1
    assert page.locator("#status").inner_text().startswith("answered in ")
    page.screenshot(path=str(tmp_path / "demo.png"))
    assert (tmp_path / "demo.png").stat().st_size > 10_000

    page.fill("#prompt", "and the circle?")
    page.press("#prompt", "Enter")
    page.locator(".msg.assistant[data-done=true]").nth(1).wait_for()
    assert len(answers(page)) == 2 and page.locator(".msg.error").count() == 0

    page.evaluate(DROP, ["dropped.png", base64.b64encode(Path(images[1]).read_bytes()).decode()])
    page.wait_for_selector("text=New image: dropped.png")
    assert page.locator(".msg.assistant").count() == 0  # a new image starts a new conversation

    page.fill("#max-tokens", "9999")  # over the server's cap: its error shows in the page
    page.fill("#prompt", QUESTION)
    page.click("#send")
    page.wait_for_selector(".msg.error")
    assert "this server generates at most 64" in page.locator(".msg.error").inner_text()

    page.click("#reset")
    assert page.locator(".msg.user").count() == 0 and "Conversation reset." in page.locator("#messages").inner_text()
    assert all("status of 400" in p for p in problems), problems  # only the refused request is logged
