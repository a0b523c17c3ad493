"""The frame every partner simulator shares: health, fault controls and optional run-time
settings (the sandbox's knobs, such as how long an identity check takes)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from wayline.sandbox.faults import FaultInjection, Faults, FaultSettings


def partner_app(name: str, faults: Faults, settings: BaseModel | None = None) -> FastAPI:
    """A simulator's app: `/healthz`, `/_sandbox/faults` and, given `settings`,
    `/_sandbox/settings` (GET shows them, PUT replaces them; the routes read
    `app.state.settings` on every call, so a change applies at once)."""
    app = FastAPI(title=f"Sandbox: {name}", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.faults = faults
    app.state.settings = settings

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "partner": name}

    @app.get("/_sandbox/faults")
    def get_faults() -> dict[str, Any]:
        return {
            **faults.settings.model_dump(mode="json"),
            "calls": faults.calls,
            "failures": faults.failures,
        }

    @app.put("/_sandbox/faults")
    def set_faults(chosen: FaultSettings) -> dict[str, Any]:
        faults.update(chosen)
        return faults.settings.model_dump(mode="json")

    if settings is not None:
        model = type(settings)

        @app.get("/_sandbox/settings")
        def get_settings() -> dict[str, Any]:
            return dict(app.state.settings.model_dump(mode="json"))

        @app.put("/_sandbox/settings")
        def set_settings(chosen: dict[str, Any]) -> dict[str, Any]:
            app.state.settings = model.model_validate(chosen)
            return dict(app.state.settings.model_dump(mode="json"))

    app.add_middleware(FaultInjection, faults=faults)
    return app
