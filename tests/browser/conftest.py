"""Fixtures for the browser tests: the real application served by uvicorn on a loopback port
(SQLite and files in a temporary folder, demo mode), the machine's Chromium driven by
Playwright, a fresh browser context per test, and real photos made with Pillow.

Chromium comes from WAYLINE_CHROMIUM or /usr/bin/chromium (scripts/browser installs it);
Playwright's own browser download is not used. Without a Chromium the tests are skipped,
unless CI is set, where that fails the run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from browser_journey import Photos, new_context
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REPO = Path(__file__).resolve().parents[2]


def _chromium() -> str | None:
    for candidate in (os.environ.get("WAYLINE_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread: leave signals alone
        pass


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of the real app, served for the whole session on a free loopback port."""
    home = tmp_path_factory.mktemp("wayline-home")
    settings = Settings(
        home=home,
        demo=True,
        secret_key=secrets.token_urlsafe(32),
        journeys_dir=REPO / "journeys",
        rate_limits=False,  # one browser runs every test: limits have tests of their own
    )
    app = create_app(build(settings, migrate=True, **demo_options()))
    port = _free_port()
    server = _Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, name="wayline-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("The app did not start under uvicorn", pytrace=False)
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    server.force_exit = True  # the browser may still hold keep-alive connections
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    if executable is None:
        message = "No Chromium: run scripts/browser, or set WAYLINE_CHROMIUM to its path"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, base_url)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def no_js_context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, base_url, java_script_enabled=False)
    yield context
    context.close()


def _photo(path: Path, size: tuple[int, int], colour: tuple[int, int, int], label: str) -> Path:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((width // 6, height // 3, width * 5 // 6, height * 3 // 4), fill=(40, 40, 48))
    draw.ellipse(
        (width // 5, height * 2 // 3, width // 5 + height // 5, height * 13 // 15),
        fill=(10, 10, 10),
    )
    draw.line((width // 3, height // 3, width // 2, height // 2), fill=(230, 230, 230), width=6)
    draw.text((10, 10), label, fill=(255, 255, 255))
    image.save(path, quality=85) if path.suffix == ".jpg" else image.save(path)
    return path


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Photos:
    """Real JPEG and PNG photos of 'damage' (large enough not to count as low resolution)."""
    folder = tmp_path_factory.mktemp("photos")
    return Photos(
        front=_photo(folder / "front-bumper.jpg", (800, 600), (180, 30, 30), "front"),
        side=_photo(folder / "driver-side.jpg", (800, 600), (30, 90, 180), "side"),
        close=_photo(folder / "close-up.png", (640, 480), (40, 150, 60), "close-up"),
        estimate=_photo(folder / "garage-estimate.png", (600, 800), (245, 245, 245), "estimate"),
    )
