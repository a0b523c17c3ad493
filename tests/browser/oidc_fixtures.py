"""Fixtures for the browser tests that sign in through a real OpenID provider: the test
provider (tests/oidc_provider, through tests/oidc_kit.py) and the real app on its own loopback
port, configured with the provider's settings for customers and staff, on the demo dataset's
partners (in process). The provider knows the app's redirect URIs before either starts, so the
app's port is chosen first.

`OidcSite` gives a test what it needs to look behind the pages: the provider (to restart it or
ask for mischief) and the app's audit log. Drive the provider's pages with `provider_sign_in`.
Test modules import the fixtures by name (`from oidc_fixtures import oidc_site, ...`).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from conftest import new_context
from oidc_kit import ONE_TIME_CODE, PASSWORD, Provider, free_port, running_provider
from playwright.sync_api import Browser, BrowserContext, Page, expect

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.identity.audit import AuditLog
from wayline.sandbox.wiring import demo_options
from wayline.store.audit import AuditRow
from wayline.web.app import create_app

REPO = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT = 20.0


@dataclass
class OidcSite:
    """The app at `base_url`, signing people in through `provider`."""

    base_url: str
    provider: Provider
    components: Components

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.components.store, self.components.clock)

    def audit_entries(self, action: str, actor: str | None = None) -> list[AuditRow]:
        """The audit log's entries for `action` (and `actor`), newest first."""
        return self.audit.entries(action=action, actor=actor, limit=1000)


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread: leave signals alone
        pass


@contextmanager
def serving(app: Any, port: int) -> Iterator[str]:
    """`app` under uvicorn on 127.0.0.1:`port`, in a background thread, until the block ends."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
        lifespan="off",
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, name="wayline-oidc-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("The app did not start under uvicorn", pytrace=False)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True  # the browser may still hold keep-alive connections
        thread.join(timeout=10)


def site_settings(home: Path, base_url: str, provider: Provider, **overrides: Any) -> Settings:
    """Demo mode's partners and dataset, but both kinds of people sign in at `provider`."""
    values: dict[str, Any] = {
        "home": home,
        "demo": True,
        "secret_key": secrets.token_urlsafe(32),
        "journeys_dir": REPO / "journeys",
        "rate_limits": False,  # one provider and one browser run every test
        "public_url": base_url,
        "oidc_issuer": provider.issuer,
        "oidc_client_id": provider.customers.client_id,
        "oidc_client_secret": provider.customers.client_secret,
        "staff_oidc_issuer": provider.issuer,
        "staff_oidc_client_id": provider.staff.client_id,
        "staff_oidc_client_secret": provider.staff.client_secret,
    }
    return Settings(**(values | overrides))


@contextmanager
def running_site(home: Path, **settings: Any) -> Iterator[OidcSite]:
    """A provider and the app configured for it, both on loopback, until the block ends;
    `settings` override the app's (for instance `database_url`)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with running_provider(
        redirect_uris=[f"{base_url}/auth/callback"],
        post_logout_redirect_uris=[f"{base_url}/signed-out"],
        log_path=home / "provider.log",
    ) as provider:
        components = build(
            site_settings(home, base_url, provider, **settings), migrate=True, **demo_options()
        )
        with serving(create_app(components), port):
            yield OidcSite(base_url, provider, components)


@pytest.fixture(scope="module")
def oidc_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcSite]:
    """One provider and app for a module's tests (SQLite). A test that spoils a token or
    rolls the keys over puts things back before it ends."""
    with running_site(tmp_path_factory.mktemp("wayline-oidc")) as site:
        yield site


@pytest.fixture
def oidc_context(browser: Browser, oidc_site: OidcSite) -> Iterator[BrowserContext]:
    """A fresh browser (its own cookies: no Wayline or provider session) for the site."""
    context = new_context(browser, oidc_site.base_url)
    yield context
    context.close()


@pytest.fixture
def oidc_page(oidc_context: BrowserContext) -> Page:
    return oidc_context.new_page()


def provider_sign_in(
    page: Page, site: OidcSite, username: str, *, one_time_code: bool = False
) -> None:
    """On the provider's sign-in form: type the username (unless the provider already shows
    it), the password and, for the stronger level, the one-time code; press "Sign in" and wait
    until the browser has left the provider."""
    issuer = site.provider.issuer
    expect(page).to_have_url(_interaction(issuer))
    if not page.locator("#username").input_value():
        page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    if one_time_code:
        page.locator("#otp").fill(ONE_TIME_CODE)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: not url.startswith(f"{issuer}/"))


def _interaction(issuer: str) -> re.Pattern[str]:
    """The provider's sign-in page (an interaction of its own)."""
    return re.compile(re.escape(issuer) + r"/interaction/[^/]+$")
