"""Liveness, readiness and metrics for operators and load balancers.

/metrics on the public listener is for demo mode only. Outside it, metrics are served on a port
of their own (`WAYLINE_METRICS_PORT`, observability/exposition.py), or here to a bearer of
`WAYLINE_METRICS_TOKEN`; with neither set, /metrics does not exist here (404).
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wayline.web.access import PUBLIC

router = APIRouter(tags=["operations"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.get("/healthz", dependencies=[PUBLIC], summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    dependencies=[PUBLIC],
    summary="The process can serve: its database answers",
    responses={
        503: {
            "description": "The database does not answer",
            "content": {"application/json": {}},
        }
    },
)
def readyz(request: Request) -> JSONResponse:
    try:
        request.app.state.store.ping()
    except Exception as error:  # any database failure means not ready
        return JSONResponse(
            {"status": "unavailable", "database": type(error).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok"})


async def metrics_reader(request: Request) -> None:
    """Let the request read /metrics, or refuse it: 401 without the configured token (compared
    in constant time), 404 outside demo mode when no token is configured."""
    settings = request.app.state.settings
    token: str | None = settings.metrics_token
    if token is None:
        if settings.demo:
            return
        raise HTTPException(404)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if not (scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())):
        raise HTTPException(
            401, "Metrics need the operations token", headers={"WWW-Authenticate": "Bearer"}
        )


@router.get(
    "/metrics",
    summary="Prometheus metrics (demo mode, or with the operations token)",
    # Public to sessions: its own bearer token (or demo mode) guards it.
    dependencies=[PUBLIC, Depends(metrics_reader)],
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}},
        401: PROBLEM,
        404: PROBLEM,
    },
)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
