"""Run the partner simulators as real HTTP servers on loopback, each on its own port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import uvicorn
from fastapi import FastAPI

from wayline.sandbox.faults import Faults, FaultSettings
from wayline.sandbox.partners import PARTNERS


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass
class RunningPartner:
    name: str
    url: str
    app: FastAPI
    faults: Faults
    server: uvicorn.Server
    thread: threading.Thread


@dataclass
class Sandbox:
    """All partner simulators, started in background threads of this process."""

    host: str = "127.0.0.1"
    base_port: int | None = None
    faults: dict[str, FaultSettings] = field(default_factory=dict)
    today: Callable[[], date] = _today
    only: frozenset[str] | None = None  # just these partners (each keeps its port's place)
    partners: dict[str, RunningPartner] = field(default_factory=dict)

    def start(self) -> Sandbox:
        unknown = (self.only or frozenset()) - PARTNERS.keys()
        if unknown:
            raise ValueError(f"no such partner: {', '.join(sorted(unknown))}")
        for index, (name, factory) in enumerate(PARTNERS.items()):
            if self.only is not None and name not in self.only:
                continue
            faults = Faults()
            faults.update(self.faults.get(name, FaultSettings()))
            app = factory(faults, self.today)
            port = self.base_port + index if self.base_port else free_port(self.host)
            config = uvicorn.Config(
                app,
                host=self.host,
                port=port,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, name=f"sandbox-{name}", daemon=True)
            thread.start()
            self.partners[name] = RunningPartner(
                name, f"http://{self.host}:{port}", app, faults, server, thread
            )
        self._wait_until_started()
        return self

    def _wait_until_started(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        for partner in self.partners.values():
            while not partner.server.started:
                if time.monotonic() > deadline or not partner.thread.is_alive():
                    raise RuntimeError(f"the {partner.name} simulator did not start")
                time.sleep(0.02)

    def urls(self) -> dict[str, str]:
        return {name: partner.url for name, partner in self.partners.items()}

    def stop(self) -> None:
        for partner in self.partners.values():
            partner.server.should_exit = True
        for partner in self.partners.values():
            partner.thread.join(timeout=5)
