"""The page in a real browser: Debian's Chromium, driven by Playwright, against the real
server (uvicorn in a thread, the packaged model, a few iterations).

Open two astronauts side by side and choose the second face (its box is highlighted);
open the astronaut, paint a stroke over her eyes, undo and redo it, repair, wait for the
versions, compare, download the best: it must have the photo's size and differ from it
only under the painted mask. Set ``UPDATE_SCREENSHOTS=1`` to write the page's screenshot
to docs/images/serve.png, with the page's default settings (otherwise it goes to the
test's temporary folder).
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from serve_helpers import free_port, serving

from inpaint_toolkit.serve.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SETTINGS = {"iterations": 30, "restarts": 3, "samples": 3, "precision": "fp32"}
# For the picture in the docs: the page's own defaults, so the repairs look as they will.
SCREENSHOT_SETTINGS = {"samples": 3}
CHOSEN = "rgb(250, 204, 21)"  # the chosen face's box, #facc15 in app.css
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "serve.png"

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)"
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


@pytest.fixture
def live_server():
    """The real server on a free port of 127.0.0.1; yields its base URL."""
    sock = free_port()
    settings = SCREENSHOT_SETTINGS if os.environ.get("UPDATE_SCREENSHOTS") else SETTINGS
    app = create_app(None, defaults=settings, port=sock.getsockname()[1])
    with serving(app, sock) as url:
        yield url


def painted_pixels(page) -> int:
    return page.evaluate(
        """() => {
            const canvas = document.getElementById("mask-layer");
            const context = canvas.getContext("2d");
            const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) count += 1;
            return count;
        }"""
    )


def box_colours(page) -> list[str]:
    """The stroke colour of each face box, in the page's order."""
    return page.evaluate(
        """() => [...document.querySelectorAll("#face-marks .face-box")]
            .map((box) => getComputedStyle(box).stroke)"""
    )


def test_paint_repair_compare_download(live_server, astronaut, tmp_path):
    photo_path = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(photo_path)
    pair_path = tmp_path / "two-astronauts.png"
    Image.fromarray(np.concatenate([astronaut, astronaut], axis=1)).save(pair_path)
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    started = time.monotonic()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1320, "height": 900}, accept_downloads=True)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        elsewhere: list[str] = []
        page.on(
            "request",
            lambda request: (
                None
                if request.url.startswith((live_server, "blob:", "data:"))
                else elsewhere.append(request.url)
            ),
        )
        page.goto(live_server + "/")
        expect = sync_api.expect
        status = page.locator("#status")
        expect(status).to_contain_text("Open a photo")

        # two astronauts side by side: the face chosen for presets is the one highlighted
        page.set_input_files("#photo-input", str(pair_path))
        expect(status).to_contain_text("faces found", timeout=30_000)
        assert box_colours(page)[0] == CHOSEN
        assert CHOSEN not in box_colours(page)[1:]
        page.select_option("#preset-face", "1")
        assert box_colours(page)[1] == CHOSEN
        assert box_colours(page).count(CHOSEN) == 1
        expect(page.locator("#off-faces-hint")).to_contain_text("repairs faces only")

        page.set_input_files("#photo-input", str(photo_path))
        expect(status).to_contain_text("found", timeout=30_000)
        expect(page.locator("#stage")).to_be_visible()
        assert page.locator("#face-marks > g").count() >= 1

        # a stroke across the eyes, in photo pixels (200, 100) -> (250, 103)
        box = page.locator("#overlay").bounding_box()
        scale = box["width"] / astronaut.shape[1]
        x0, y0 = box["x"] + 200 * scale, box["y"] + 100 * scale
        x1, y1 = box["x"] + 250 * scale, box["y"] + 103 * scale
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move(x1, y1, steps=12)
        page.mouse.up()
        painted = painted_pixels(page)
        assert painted > 0
        page.keyboard.press("Control+z")
        assert painted_pixels(page) == 0
        page.keyboard.press("Control+Shift+z")
        assert painted_pixels(page) == painted

        # a bad setting: one line naming the field, the field marked, nothing started
        iterations = page.locator("input[name=iterations]")
        chosen = iterations.input_value()
        iterations.fill("0")
        page.click("#run")
        expect(status).to_contain_text("settings.iterations", timeout=20_000)
        expect(status).to_have_attribute("data-kind", "error")
        expect(iterations).to_have_attribute("aria-invalid", "true")
        iterations.fill(chosen)

        with page.expect_request(
            lambda r: r.url.endswith("/api/jobs") and r.method == "POST"
        ) as sent:
            page.click("#run")
        mask_png = base64.b64decode(sent.value.post_data_json["mask"])
        damaged = np.asarray(Image.open(io.BytesIO(mask_png)).convert("L")) > 127
        assert damaged[100, 200] and damaged[101, 225] and damaged[103, 250]
        assert damaged.sum() == painted

        expect(page.locator("#cancel")).to_be_visible()
        expect(status).to_contain_text("Done in", timeout=180_000)
        cards = page.locator(".result")
        expect(cards).to_have_count(3)
        losses = [
            float(text.split()[-1]) for text in page.locator(".result .loss").all_inner_texts()
        ]
        assert losses == sorted(losses)

        page.keyboard.down("c")
        expect(page.locator("body")).to_have_class("comparing")
        expect(cards.first.locator("img.original")).to_be_visible()
        page.keyboard.up("c")
        expect(cards.first.locator("img.original")).to_be_hidden()

        shot = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "serve.png"
        page.screenshot(path=str(shot), full_page=True)

        with page.expect_download() as download:
            cards.first.locator("a.download").click()
        repaired = np.asarray(Image.open(download.value.path()))
        browser.close()

    assert repaired.shape == astronaut.shape
    changed = (repaired != astronaut).any(axis=2)
    assert changed.any(), "the repair changed nothing"
    assert not (changed & ~damaged).any(), "pixels outside the painted mask changed"
    expected = "the server responded with a status of 422"  # the bad setting, on purpose
    assert [text for text in problems if expected not in text] == [], problems
    assert len(problems) == 1, problems
    assert not elsewhere, f"the page asked for something outside the server: {elsewhere}"
    print(f"browser test: {time.monotonic() - started:.1f} s")
