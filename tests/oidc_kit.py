"""The test OpenID provider (tests/oidc_provider: panva's oidc-provider under Node 22), started by
a test on a loopback port of its own.

`start_provider(...)` installs it the first time in a process (scripts/oidc-provider: `npm ci`
when needed), starts `node server.mjs` with the test hooks on, and returns once its discovery
document answers. The `Provider` it returns knows its issuer and clients, stops, restarts on
the same port with other signing keys (JWKS rollover), and spoils the next ID token on request
(`mischief`). `running_provider(...)` is the same as a context manager, for fixtures.

`follow_sign_in` and `follow_sign_out` drive the provider's own pages with an httpx client, for
tests that sign in without a browser. Everything here is test-only: the credentials are public.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVER_DIR = ROOT / "tests" / "oidc_provider"
INSTALLER = ROOT / "scripts" / "oidc-provider"

PASSWORD = "correct horse"
ONE_TIME_CODE = "123456"
LOA_1 = "urn:wayline:loa:1"
LOA_2 = "urn:wayline:loa:2"
CUSTOMERS = {"alex": "Alex Morgan", "sam": "Sam Patel", "jordan": "Jordan Lee"}
# Staff usernames and the roles the provider claims for them (`nobody` has none).
STAFF_ROLES: dict[str, list[str]] = {
    "casey": ["handler"],
    "morgan": ["senior_handler"],
    "riley": ["fraud_investigator"],
    "avery": ["analyst"],
    "harper": ["auditor"],
    "sasha": ["admin"],
    "nobody": [],
}
KEY_IDS = {"A": "wayline-test-A", "B": "wayline-test-B"}
MISCHIEF = ("tamper", "expire", "wrong_audience", "wrong_nonce", "wrong_issuer", "none")
DEFAULT_REDIRECT_URIS = ("http://127.0.0.1/auth/callback",)
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Client:
    """A client registered at the provider (confidential, `client_secret_basic`)."""

    client_id: str
    client_secret: str


@functools.cache
def install() -> Path:
    """The Node 22 binary, after scripts/oidc-provider made sure the provider is installed
    (once a process; the script itself is cheap when nothing changed)."""
    done = subprocess.run(
        [str(INSTALLER)], capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/oidc-provider failed:\n{done.stderr[-3000:]}", pytrace=False)
    return Path(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _new_log_path() -> Path:
    return Path(tempfile.mkdtemp(prefix="oidc-provider-")) / "provider.log"


def _key_names(keys: str | Sequence[str]) -> list[str]:
    names = [keys] if isinstance(keys, str) else list(keys)
    if not names or any(name not in KEY_IDS for name in names):
        raise ValueError(f"keys must be 'A', 'B' or a list of them, not {keys!r}")
    return names


@dataclass
class Provider:
    """A running test provider. `keys` lists the published keys; the first signs."""

    port: int
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    keys: list[str]
    customers: Client = Client("wayline-customers", "wayline-customers-test-secret")
    staff: Client = Client("wayline-staff", "wayline-staff-test-secret")
    log_path: Path = field(default_factory=_new_log_path)
    _process: subprocess.Popen[bytes] | None = None
    _discovery: dict[str, Any] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def signing_key_id(self) -> str:
        return KEY_IDS[self.keys[0]]

    def discovery(self) -> dict[str, Any]:
        """The discovery document (fetched once a start)."""
        if self._discovery is None:
            answer = httpx.get(self.discovery_url, timeout=10)
            answer.raise_for_status()
            self._discovery = answer.json()
        return self._discovery

    def endpoint(self, name: str) -> str:
        """A URL from discovery, e.g. `endpoint("token")` for `token_endpoint`."""
        url = self.discovery()[f"{name}_endpoint"]
        assert isinstance(url, str)
        return url

    def log(self) -> str:
        """What the provider wrote to stderr (paths and outcomes, no secrets)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _args(self, node: Path) -> list[str]:
        args = [str(node), str(SERVER_DIR / "server.mjs"), "--port", str(self.port)]
        args += ["--keys", ",".join(self.keys), "--test-hooks"]
        args += ["--customer-secret", self.customers.client_secret]
        args += ["--staff-secret", self.staff.client_secret]
        for uri in self.redirect_uris:
            args += ["--redirect-uri", uri]
        for uri in self.post_logout_redirect_uris:
            args += ["--post-logout-redirect-uri", uri]
        return args

    def start(self) -> None:
        """Starts the provider and waits until its discovery document answers."""
        node = install()
        self._discovery = None
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                self._args(node),
                cwd=SERVER_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NODE_ENV": "test"},
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=2) as http:
            while True:
                assert self._process is not None
                try:
                    if http.get(self.discovery_url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"the test provider did not start:\n{self.log()[-3000:]}")
                time.sleep(0.05)

    def stop(self) -> None:
        """Stops the provider (its sessions, codes and grants are forgotten)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self, keys: str | Sequence[str] | None = None) -> None:
        """Starts the provider again on the same port (same issuer), publishing `keys` (the
        first signs) if given: a JWKS key rollover. Provider sessions do not survive it."""
        if keys is not None:
            self.keys = _key_names(keys)
        self.stop()
        self.start()

    def mischief(self, kind: str | None) -> None:
        """Spoils the next ID token the token endpoint issues (one of MISCHIEF; see
        tests/oidc_provider/mischief.mjs), or with None clears a pending one."""
        if kind is not None and kind not in MISCHIEF:
            raise ValueError(f"unknown mischief {kind!r}")
        answer = httpx.post(f"{self.issuer}/test/mischief", json={"id_token": kind}, timeout=10)
        assert answer.status_code == 200, answer.text

    def __enter__(self) -> Provider:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_provider(
    port: int = 0,
    redirect_uris: Sequence[str] = DEFAULT_REDIRECT_URIS,
    post_logout_redirect_uris: Sequence[str] = (),
    keys: str | Sequence[str] = "A",
    customers: Client | None = None,
    staff: Client | None = None,
    log_path: Path | None = None,
) -> Provider:
    """Starts a test provider on `port` (0: a free one), for clients that may redirect to
    `redirect_uris` and `post_logout_redirect_uris`, publishing `keys` (the first signs). Its
    log goes to `log_path` (by default a file in a new temporary folder)."""
    provider = Provider(
        port=port or free_port(),
        redirect_uris=tuple(redirect_uris),
        post_logout_redirect_uris=tuple(post_logout_redirect_uris),
        keys=_key_names(keys),
        log_path=log_path or _new_log_path(),
    )
    provider.customers = customers or provider.customers
    provider.staff = staff or provider.staff
    provider.start()
    return provider


@contextmanager
def running_provider(
    port: int = 0,
    redirect_uris: Sequence[str] = DEFAULT_REDIRECT_URIS,
    post_logout_redirect_uris: Sequence[str] = (),
    keys: str | Sequence[str] = "A",
    log_path: Path | None = None,
) -> Iterator[Provider]:
    """`start_provider` as a context manager: the provider stops when the block ends."""
    provider = start_provider(
        port, redirect_uris, post_logout_redirect_uris, keys, log_path=log_path
    )
    with provider:
        yield provider


@dataclass
class Form:
    action: str
    form_id: str | None
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    """The forms of a page, with their hidden and prefilled inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(found.get("action", ""), found.get("id")))
        elif tag == "input" and self.forms and found.get("name"):
            self.forms[-1].fields[found["name"]] = found.get("value", "")


def forms(page: httpx.Response) -> list[Form]:
    """The forms on an HTML page, their actions made absolute."""
    parser = _Forms()
    parser.feed(page.text)
    for form in parser.forms:
        form.action = urljoin(str(page.url), form.action)
    return parser.forms


def _login_form(page: httpx.Response) -> Form | None:
    return next((f for f in forms(page) if f.action.endswith("/login")), None)


class SignInRefused(AssertionError):
    """The provider showed its form again: the details were wrong, or not strong enough."""

    def __init__(self, page: httpx.Response) -> None:
        super().__init__(f"the provider refused the sign-in ({page.status_code})")
        self.page = page


def follow_sign_in(
    http: httpx.Client,
    url: str,
    issuer: str,
    username: str | None = None,
    password: str = PASSWORD,
    otp: str | None = None,
) -> str:
    """Follows redirects from `url` through the provider at `issuer`, filling its sign-in form
    (when it shows one) with `username`, `password` and `otp`, and returns the first URL that
    leaves the provider (the client's redirect URI with `code` and `state`, or an error). Raises
    SignInRefused when the form comes back with an error, and AssertionError when the provider
    shows an error page, or a form when no username was given. `http` must not follow redirects
    itself; it keeps the cookies."""
    response = http.get(url)
    for _ in range(20):
        location: str | None = response.headers.get("location")
        if location is not None:
            target = urljoin(str(response.url), location)
            if not target.startswith(f"{issuer}/"):
                return target
            response = http.get(target)
            continue
        form = _login_form(response)
        if form is None:
            detail = f"{response.status_code} {response.text[:500]}"
            raise AssertionError(f"the provider showed no sign-in form: {detail}")
        if response.status_code != 200:
            raise SignInRefused(response)
        assert username is not None, "the provider asked for a sign-in"
        data = {"username": username, "password": password, "otp": otp or ""}
        response = http.post(form.action, data=data)
    raise AssertionError("too many redirects at the provider")


def follow_sign_out(http: httpx.Client, url: str, issuer: str) -> str:
    """Opens the provider's sign-out page at `url` (its end_session_endpoint with the client's
    parameters), presses "Sign out", and returns where the provider sent the browser next (the
    post-logout redirect URI, or its own signed-out page)."""
    page = http.get(url)
    assert page.status_code == 200, page.text
    form = next(f for f in forms(page) if f.form_id == "op.logoutForm")
    response = http.post(form.action, data={**form.fields, "logout": "yes"})
    location: str | None = response.headers.get("location")
    if location is None:
        return str(response.url)
    target = urljoin(str(response.url), location)
    return target if not target.startswith(f"{issuer}/") else str(http.get(target).url)
