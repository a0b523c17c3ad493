"""Malware scanning against a real clamd (Debian's clamav-daemon), started by the tests with a
local signature database that knows the EICAR test file; and failing closed."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from infra_kit import EICAR, EICAR_SIGNATURE, Clamd, free_port, start_clamd

from wayline import bootstrap
from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.documents.scanner import (
    ClamdScanner,
    NoScanner,
    ScannerUnavailable,
    ScanResult,
    parse_answer,
    scanner_from_url,
)
from wayline.sandbox.wiring import demo_options

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


@pytest.mark.parametrize("over", ["unix", "tcp"])
def test_eicar_is_found_with_its_signature_name(clamd: Clamd, over: str) -> None:
    scanner = clamd.scanner() if over == "unix" else clamd.tcp_scanner()
    result = scanner.scan(io.BytesIO(EICAR))
    assert result.clean is False
    assert result.signature is not None
    assert result.signature.startswith(EICAR_SIGNATURE)  # clamd adds .UNOFFICIAL to ours


def test_eicar_is_found_across_many_small_chunks(clamd: Clamd) -> None:
    result = clamd.scanner(chunk_size=7).scan(io.BytesIO(EICAR))
    assert not result.clean and result.signature.startswith(EICAR_SIGNATURE)  # type: ignore[union-attr]


@pytest.mark.parametrize("over", ["unix", "tcp"])
def test_a_clean_file_passes(clamd: Clamd, over: str) -> None:
    scanner = clamd.scanner() if over == "unix" else clamd.tcp_scanner()
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4000 + b"\xff\xd9"  # ~1 MB, many chunks
    assert scanner.scan(io.BytesIO(photo)) == ScanResult(clean=True, signature=None)


def test_an_empty_file_passes(clamd: Clamd) -> None:
    assert clamd.scanner().scan(io.BytesIO(b"")).clean


def test_the_stream_is_put_back_where_it_was(clamd: Clamd) -> None:
    stream = io.BytesIO(b"header" + EICAR)
    stream.seek(6)
    result = clamd.scanner().scan(stream)
    assert not result.clean
    assert stream.tell() == 6  # the caller can read it again


def test_scanner_from_url_reaches_the_daemon(clamd: Clamd) -> None:
    over_socket = scanner_from_url(f"clamd://{clamd.socket_path}?timeout=10")
    over_tcp = scanner_from_url(f"clamd://127.0.0.1:{clamd.port}")
    for scanner in (over_socket, over_tcp):
        assert isinstance(scanner, ClamdScanner)
        assert not scanner.scan(io.BytesIO(EICAR)).clean
        assert scanner.scan(io.BytesIO(b"hello")).clean


def test_a_file_over_the_daemons_stream_limit_is_held_not_passed(clamd: Clamd) -> None:
    # The tests' clamd takes up to 30 MB a stream; past that it hangs up, which is no verdict.
    big = io.BytesIO(b"\0" * (31 * 1024 * 1024))
    with pytest.raises(ScannerUnavailable):
        clamd.scanner(chunk_size=1024 * 1024).scan(big)


def test_a_stopped_clamd_fails_closed(tmp_path: Path) -> None:
    own = start_clamd(tmp_path)
    scanners = [own.scanner(timeout=5), own.tcp_scanner(timeout=5)]
    for scanner in scanners:
        assert scanner.scan(io.BytesIO(b"hello")).clean
    own.stop()
    for scanner in scanners:
        with pytest.raises(ScannerUnavailable):
            scanner.scan(io.BytesIO(EICAR))
        with pytest.raises(ScannerUnavailable):
            scanner.scan(io.BytesIO(b"hello"))
    own.socket_path.unlink(missing_ok=True)


def test_nothing_listening_fails_closed() -> None:
    with pytest.raises(ScannerUnavailable):
        ClamdScanner("127.0.0.1", free_port(), timeout=2).scan(io.BytesIO(b"hello"))
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(None, None, socket_path="/nonexistent/clamd.sock").scan(io.BytesIO(b"x"))


# --- a daemon that misbehaves (a stand-in on loopback: clamd itself never does) --------------


@pytest.fixture
def fake_daemon() -> Iterator[tuple[int, list[bytes | None]]]:
    """A TCP server that reads the request and answers with the next scripted answer (None:
    says nothing and keeps the connection open)."""
    answers: list[bytes | None] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(5)
            try:
                received = b""
                while not received.endswith(b"\0\0\0\0"):
                    data = connection.recv(65536)
                    if not data:
                        break
                    received += data
            except OSError:
                pass
            answer = answers.pop(0) if answers else b""
            if answer is None:
                held.append(connection)
                continue
            connection.sendall(answer)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], answers
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"stream: Can't allocate memory ERROR\0",
        b"INSTREAM size limit exceeded. ERROR\0",
        b"UNKNOWN COMMAND\0",
        b"stream: maybe\0",
        b"stream:  FOUND\0",
        b"",  # hung up without a word
    ],
)
def test_an_unexpected_answer_fails_closed(
    fake_daemon: tuple[int, list[bytes | None]], answer: bytes
) -> None:
    port, answers = fake_daemon
    answers.append(answer)
    with pytest.raises(ScannerUnavailable):
        ClamdScanner("127.0.0.1", port, timeout=5).scan(io.BytesIO(b"hello"))


def test_a_daemon_that_never_answers_times_out_closed(
    fake_daemon: tuple[int, list[bytes | None]],
) -> None:
    port, answers = fake_daemon
    answers.append(None)
    with pytest.raises(ScannerUnavailable, match="timed out"):
        ClamdScanner("127.0.0.1", port, timeout=1).scan(io.BytesIO(b"hello"))


def test_answers_are_parsed() -> None:
    assert parse_answer("stream: OK") == ScanResult(True, None)
    assert parse_answer("stream: Win.Test.EICAR_HDB-1 FOUND") == ScanResult(
        False, "Win.Test.EICAR_HDB-1"
    )
    with pytest.raises(ScannerUnavailable):
        parse_answer("stream: lstat() failed ERROR")


def test_scanner_urls() -> None:
    assert isinstance(scanner_from_url(None), NoScanner)
    assert isinstance(scanner_from_url(""), NoScanner)
    assert isinstance(scanner_from_url("none"), NoScanner)
    tcp = scanner_from_url("clamd://scanner.internal")
    assert isinstance(tcp, ClamdScanner)
    assert (tcp.host, tcp.port, tcp.socket_path) == ("scanner.internal", 3310, None)
    unix = scanner_from_url("clamd:///run/clamav/clamd.ctl?timeout=5&chunk_size=8192")
    assert isinstance(unix, ClamdScanner)
    assert (unix.socket_path, unix.timeout, unix.chunk_size) == ("/run/clamav/clamd.ctl", 5, 8192)
    for wrong in ("http://x", "clamd://", "clamd://h:1/path", "clamd://h?speed=fast"):
        with pytest.raises(ValueError):
            scanner_from_url(wrong)


def test_no_scanner_says_every_file_is_clean() -> None:
    assert NoScanner().scan(io.BytesIO(EICAR)).clean


# --- wiring -----------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, object]]] = []

    def warning(self, event: str, **fields: object) -> None:
        self.warnings.append((event, fields))


def _build(tmp_path: Path, **settings: object) -> Components:
    return build(
        Settings(
            home=tmp_path / "home",
            database_url=f"sqlite:///{tmp_path / 'wayline.db'}",
            journeys_dir=JOURNEYS,
            secret_key="test",
            **settings,  # type: ignore[arg-type]
        ),
        migrate=True,
        **demo_options(),
    )


def test_the_application_says_at_start_up_that_it_runs_without_a_scanner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(bootstrap, "log", recorder)
    components = _build(tmp_path)
    try:
        assert isinstance(components.scanner, NoScanner)
        [(event, fields)] = recorder.warnings
        assert event == "scanner.none"
        assert "without a malware scanner" in str(fields["message"])
    finally:
        components.store.engine.dispose()


def test_the_application_scans_with_clamd_when_configured(
    clamd: Clamd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(bootstrap, "log", recorder)
    components = _build(tmp_path, scanner_url=f"clamd://127.0.0.1:{clamd.port}?timeout=10")
    try:
        assert isinstance(components.scanner, ClamdScanner)
        assert recorder.warnings == []
        result = components.scanner.scan(io.BytesIO(EICAR))
        assert not result.clean and result.signature.startswith(EICAR_SIGNATURE)  # type: ignore[union-attr]
    finally:
        components.store.engine.dispose()
