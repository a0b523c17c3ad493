"""Malware scanning behind one interface. The upload pipeline asks a Scanner about every file
before anything else looks inside it; a scanner that cannot answer raises ScannerUnavailable,
and the upload is then held, never accepted (fail closed).

`NoScanner` is the embedded default: it scans nothing and says every file is clean.
`ClamdScanner` asks ClamAV's daemon. `scanner_from_url` picks one from WAYLINE_SCANNER_URL.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from typing import IO, Protocol
from urllib.parse import parse_qs, unquote, urlparse


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str | None = None  # what was found, when not clean


class ScannerUnavailable(Exception):
    """The scanner could not look at the file (down, timed out, refused): hold the upload."""


class Scanner(Protocol):
    def scan(self, stream: IO[bytes]) -> ScanResult: ...


class NoScanner:
    """No scanning at all (the embedded default)."""

    def scan(self, stream: IO[bytes]) -> ScanResult:
        return ScanResult(clean=True)


# --- ClamAV ----------------------------------------------------------------------------------

CLAMD_PORT = 3310


class ClamdScanner:
    """ClamAV's daemon over TCP or a Unix socket, with its INSTREAM command: the file is sent
    in length-prefixed chunks, so clamd never needs to see our disk.

    Fails closed: a connection refused, a timeout, a connection dropped or any answer other
    than `stream: OK` or `stream: <signature> FOUND` raises ScannerUnavailable. `timeout` bounds
    the whole scan (connect, send, answer), not each read. The file should be smaller than
    clamd's StreamMaxLength (25 MB by default), or clamd refuses it (and the upload is held).
    """

    def __init__(
        self,
        host: str | None = "127.0.0.1",
        port: int | None = CLAMD_PORT,
        *,
        socket_path: str | None = None,
        timeout: float = 30.0,
        chunk_size: int = 64 * 1024,
    ):
        if socket_path is None and (not host or not port):
            raise ValueError("ClamdScanner needs a host and port, or a socket path")
        if timeout <= 0 or chunk_size <= 0:
            raise ValueError("timeout and chunk_size must be positive")
        self.host, self.port, self.socket_path = host, port, socket_path
        self.timeout, self.chunk_size = timeout, chunk_size

    @property
    def address(self) -> str:
        return f"unix:{self.socket_path}" if self.socket_path else f"{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"ClamdScanner({self.address})"

    def scan(self, stream: IO[bytes]) -> ScanResult:
        """Scan from the stream's position to its end; a seekable stream is put back where it
        was, so the caller can read it again."""
        start = stream.tell() if _seekable(stream) else None
        try:
            answer = self._instream(stream)
        finally:
            if start is not None:
                stream.seek(start)
        return parse_answer(answer)

    def ping(self) -> None:
        """Raise ScannerUnavailable unless clamd answers PONG."""
        deadline = time.monotonic() + self.timeout
        try:
            with self._connect(deadline) as connection:
                connection.sendall(b"zPING\0")
                answer = _read_answer(connection, deadline)
        except OSError as error:
            raise ScannerUnavailable(f"clamd at {self.address}: {_describe(error)}") from error
        if answer != "PONG":
            raise ScannerUnavailable(f"clamd at {self.address} answered PING with {answer!r}")

    def _connect(self, deadline: float) -> socket.socket:
        if self.socket_path:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connection.settimeout(_remaining(deadline))
                connection.connect(self.socket_path)
            except BaseException:
                connection.close()
                raise
            return connection
        assert self.host and self.port
        return socket.create_connection((self.host, self.port), timeout=_remaining(deadline))

    def _instream(self, stream: IO[bytes]) -> str:
        deadline = time.monotonic() + self.timeout
        try:
            with self._connect(deadline) as connection:
                connection.sendall(b"zINSTREAM\0")
                try:
                    while chunk := stream.read(self.chunk_size):
                        connection.settimeout(_remaining(deadline))
                        connection.sendall(struct.pack(">I", len(chunk)) + chunk)
                    connection.settimeout(_remaining(deadline))
                    connection.sendall(struct.pack(">I", 0))
                except (BrokenPipeError, ConnectionResetError) as error:
                    # clamd hangs up mid-stream when the file passes its StreamMaxLength; it
                    # says so first, and that answer is the better reason to report.
                    said = _try_read(connection)
                    raise ScannerUnavailable(
                        f"clamd at {self.address} stopped the scan: {said or _describe(error)}"
                    ) from error
                return _read_answer(connection, deadline)
        except ScannerUnavailable:
            raise
        except (OSError, ValueError) as error:
            raise ScannerUnavailable(f"clamd at {self.address}: {_describe(error)}") from error


def parse_answer(answer: str) -> ScanResult:
    """clamd's answer to INSTREAM: `stream: OK`, `stream: <signature> FOUND`, or an error."""
    if answer == "stream: OK":
        return ScanResult(clean=True)
    if answer.startswith("stream: ") and answer.endswith(" FOUND"):
        signature = answer[len("stream: ") : -len(" FOUND")].strip()
        if signature:
            return ScanResult(clean=False, signature=signature)
    if answer.endswith("ERROR"):
        raise ScannerUnavailable(f"clamd could not scan the file: {answer}")
    raise ScannerUnavailable(f"clamd gave an unexpected answer: {answer[:200]!r}")


def _read_answer(connection: socket.socket, deadline: float) -> str:
    """One NUL-terminated answer (the z- form of the commands), or all clamd said before it
    closed the connection."""
    received = bytearray()
    while b"\0" not in received:
        connection.settimeout(_remaining(deadline))
        data = connection.recv(4096)
        if not data:
            break
        received += data
        if len(received) > 64 * 1024:
            raise ScannerUnavailable("clamd's answer is far longer than any answer it gives")
    if not received:
        raise ScannerUnavailable("clamd closed the connection without an answer")
    return bytes(received).split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def _try_read(connection: socket.socket) -> str | None:
    try:
        connection.settimeout(1.0)
        data = connection.recv(4096)
    except OSError:
        return None
    return data.split(b"\0", 1)[0].decode("utf-8", "replace").strip() or None


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, ValueError):
        return False


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__


# --- by URL ----------------------------------------------------------------------------------


def scanner_from_url(url: str | None) -> Scanner:
    """The scanner a URL names: none (no URL, or `none`) → NoScanner;
    `clamd://host[:port]` → clamd over TCP (port 3310 by default);
    `clamd:///path/to/clamd.sock` → clamd over its Unix socket.
    Query parameters: `timeout` (seconds, whole scan; 30) and `chunk_size` (bytes; 65536)."""
    if url is None or url.strip().lower() in ("", "none"):
        return NoScanner()
    parsed = urlparse(url.strip())
    if parsed.scheme != "clamd":
        raise ValueError(f"unsupported scanner URL scheme '{parsed.scheme}' (supported: clamd://)")
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    unknown = set(options) - {"timeout", "chunk_size"}
    if unknown:
        raise ValueError(f"unknown scanner URL option(s): {', '.join(sorted(unknown))}")
    try:
        timeout = float(options.get("timeout", 30.0))
        chunk_size = int(options.get("chunk_size", 64 * 1024))
        port = parsed.port
    except ValueError as error:
        raise ValueError(f"invalid scanner URL {url!r}: {error}") from None
    if parsed.hostname:
        if parsed.path not in ("", "/"):
            raise ValueError("a clamd:// URL names a host and port, or a socket path, not both")
        return ClamdScanner(
            parsed.hostname, port or CLAMD_PORT, timeout=timeout, chunk_size=chunk_size
        )
    path = unquote(parsed.path)
    if not path or path == "/":
        raise ValueError("a clamd:// URL needs a host (clamd://host:3310) or a socket path")
    return ClamdScanner(None, None, socket_path=path, timeout=timeout, chunk_size=chunk_size)
