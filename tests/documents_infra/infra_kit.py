"""Helpers of the document infrastructure tests: the EICAR test file, a real clamd of the
tests' own with a local signature database, free loopback ports."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from wayline.documents.scanner import ClamdScanner, ScannerUnavailable

# The EICAR anti-virus test file, put together here rather than kept whole in the repository,
# where any scanner on a developer's machine would flag it.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-" + b"FILE!$H+H*"
EICAR_SIGNATURE = "Wayline.Test.EICAR"


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def find_clamd() -> str | None:
    given = os.environ.get("WAYLINE_CLAMD")
    if given:
        return given
    return shutil.which("clamd") or next(
        (p for p in ("/usr/sbin/clamd", "/usr/local/sbin/clamd") if os.access(p, os.X_OK)), None
    )


@dataclass
class Clamd:
    """A clamd of the tests' own, listening on a Unix socket and on a loopback TCP port."""

    process: subprocess.Popen[bytes]
    socket_path: Path
    port: int
    log: Path

    def scanner(self, **options: float) -> ClamdScanner:
        return ClamdScanner(None, None, socket_path=str(self.socket_path), **options)  # type: ignore[arg-type]

    def tcp_scanner(self, **options: float) -> ClamdScanner:
        return ClamdScanner("127.0.0.1", self.port, **options)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_clamd(folder: Path) -> Clamd:
    binary = find_clamd()
    if binary is None:
        message = "clamd is not installed (scripts/clamav installs Debian's clamav-daemon)"
        if under_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    database = folder / "signatures"
    database.mkdir(parents=True)
    # A hash signature (md5:size:name) of the EICAR test file: the whole database.
    (database / "wayline-test.hdb").write_text(
        f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:{EICAR_SIGNATURE}\n"
    )
    # A Unix socket path must stay short (108 bytes): keep it out of pytest's deep tmp folders.
    socket_path = Path(f"/tmp/wayline-clamd-{secrets.token_hex(4)}.sock")
    port = free_port()
    log = folder / "clamd.log"
    config = folder / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"LocalSocket {socket_path}",
                "LocalSocketMode 600",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                f"DatabaseDirectory {database}",
                f"TemporaryDirectory {folder}",
                f"LogFile {log}",
                "LogTime yes",
                "SelfCheck 0",
                "StreamMaxLength 30M",
                "MaxThreads 4",
                "",
            ]
        )
    )
    process = subprocess.Popen(
        [binary, "--config-file", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    clamd = Clamd(process, socket_path, port, log)
    deadline = time.monotonic() + 90
    while True:
        try:
            clamd.scanner(timeout=2).ping()
            clamd.tcp_scanner(timeout=2).ping()
            return clamd
        except ScannerUnavailable:
            if process.poll() is not None or time.monotonic() > deadline:
                clamd.stop()
                said = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                pytest.fail(f"clamd did not answer PING:\n{said}", pytrace=False)
            time.sleep(0.1)
