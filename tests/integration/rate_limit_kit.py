"""A Redis server of the tests' own, on a free loopback port, for rate-limit counts shared by
replicas. Debian's redis-server (scripts/redis installs it), or the one WAYLINE_REDIS_SERVER
names. Without one the test is skipped, except under CI, where that fails the run."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from journey_api import free_port


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_redis_server() -> str | None:
    given = os.environ.get("WAYLINE_REDIS_SERVER")
    if given:
        return given
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.access(p, os.X_OK)),
        None,
    )


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True)

    def keys(self) -> list[str]:
        with self.client() as client:
            return list(client.keys("*"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_redis(folder: Path) -> RedisServer:
    binary = find_redis_server()
    if binary is None:
        message = "redis-server is not installed (scripts/redis installs Debian's redis-server)"
        if _under_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    args += ["no", "--dir", str(folder)]
    with open(folder / "redis.log", "ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    server = RedisServer(process, port)
    deadline = time.monotonic() + 20
    while True:
        try:
            with server.client() as client:
                client.ping()
            return server
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                log = (folder / "redis.log").read_text(errors="replace")
                raise AssertionError(f"redis-server did not start: {log[-2000:]}") from None
            time.sleep(0.05)
