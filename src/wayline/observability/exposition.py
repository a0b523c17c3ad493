"""Metrics on a port of their own (`WAYLINE_METRICS_PORT`), for `wayline serve` and
`wayline worker` alike: Prometheus scrapes each process there, and the public listener need not
serve /metrics at all (web/health.py)."""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from wayline.config import Settings


def serve_metrics(settings: Settings) -> tuple[WSGIServer, threading.Thread] | None:
    """Start prometheus_client's own HTTP server in a daemon thread when a metrics port is set;
    return it (to stop it: `server.shutdown()`), or None when none is."""
    if settings.metrics_port is None:
        return None
    return start_http_server(settings.metrics_port, addr=settings.metrics_host)
