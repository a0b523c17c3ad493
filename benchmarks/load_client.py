"""The load generator's HTTP client: HTTP/1.1 over asyncio streams, as little as a benchmark needs.

Why not httpx: on this project's 2-core machine the load generator shares the cores with the
server it measures, and httpx spends about as much CPU per request as a cheap route costs the
server (~1 ms). A generator that costs what the server costs caps the baseline's peak at the
generator's, which flatters every ratio against it. This client writes a request as one
preformatted buffer and reads a response by Content-Length (or chunks), on keep-alive
connections, so most of a core is left to the server.

What it does: keep-alive connections (a few per session, opened on demand), cookies by name
(Set-Cookie names and values only: the benchmark talks to one origin), JSON and multipart
bodies, an overall timeout per request. What it does not: redirects, TLS, compression,
pipelining, cookie attributes.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any


class HttpFailure(Exception):
    """The request got no (complete) response: connection refused, closed early, timed out."""


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]  # names in lower case, in the order received
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class StaleConnection(HttpFailure):
    """A kept-alive connection was closed by the server before any of the response came."""


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reusable = False

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, limit=256 * 1024
        )
        self.reusable = True

    def open_for_reuse(self) -> bool:
        """Whether the connection is open and the server has not closed its side (an idle
        keep-alive connection is closed by the server after its keep-alive timeout)."""
        return (
            self.reusable
            and self.reader is not None
            and self.writer is not None
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    async def exchange(self, head: bytes, body: bytes) -> Response:
        """Send one request (head and body as given) and read its response."""
        if self.writer is None or self.reader is None:
            await self.open()
        assert self.writer is not None and self.reader is not None
        self.writer.write(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            self.writer.write(body)
            await self.writer.drain()
        try:
            response = await self._read(self.reader)
        except asyncio.IncompleteReadError as error:
            self.close()
            if not error.partial:
                raise StaleConnection("closed before the response began") from error
            raise HttpFailure(f"incomplete response: {len(error.partial)} bytes") from error
        except (asyncio.LimitOverrunError, ValueError) as error:
            self.close()
            raise HttpFailure(f"bad response: {type(error).__name__}") from error
        if (response.header("connection") or "").lower() == "close":
            self.close()
        return response

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Response:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        length = next((v for k, v in headers if k == "content-length"), None)
        if length is not None:
            body = await reader.readexactly(int(length))
        elif any(k == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
            body = await Connection._chunks(reader)
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            body = await reader.read()  # delimited by the connection's end
        return Response(status, headers, body)

    @staticmethod
    async def _chunks(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers are sent to us
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)

    def close(self) -> None:
        self.reusable = False
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Session:
    """A client with its own cookies and keep-alive connections to one server."""

    host: str
    port: int
    timeout: float = 60.0
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request
    cookies: dict[str, str] = field(default_factory=dict)
    _idle: list[Connection] = field(default_factory=list)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> Response:
        """One request on an idle connection (a new one if none is idle); HttpFailure when no
        complete response arrives within the timeout."""
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            content_type = "application/json"
        head = self._head(method, path, len(body), content_type)
        connection, reused = self._connection()
        try:
            async with asyncio.timeout(self.timeout):
                try:
                    response = await connection.exchange(head, body)
                except StaleConnection:
                    if not reused:
                        raise
                    # The server closed it while idle, as our request arrived: nothing of it
                    # was answered, so it is sent again on a new connection.
                    connection = Connection(self.host, self.port)
                    response = await connection.exchange(head, body)
        except (OSError, TimeoutError, HttpFailure) as error:
            connection.close()
            raise HttpFailure(f"{method} {path}: {type(error).__name__} {error}") from error
        except BaseException:
            connection.close()
            raise
        if connection.reusable:
            self._idle.append(connection)
        self._remember_cookies(response)
        return response

    def _connection(self) -> tuple[Connection, bool]:
        """An idle connection the server has not closed (and True), or a new one (False)."""
        while self._idle:
            connection = self._idle.pop()
            if connection.open_for_reuse():
                return connection, True
            connection.close()
        return Connection(self.host, self.port), False

    def _head(self, method: str, path: str, length: int, content_type: str | None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        if length or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _remember_cookies(self, response: Response) -> None:
        for name, value in response.headers:
            if name == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, content = pair.partition("=")
                if content and "max-age=0" not in value.lower():
                    self.cookies[key.strip()] = content.strip()
                else:
                    self.cookies.pop(key.strip(), None)

    async def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type: text `fields`, and `files` as
    name → (filename, content, content type)."""
    boundary = "wayline-bench-7d4f0c2a9e"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, (filename, content, kind) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
