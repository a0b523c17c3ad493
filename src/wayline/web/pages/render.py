"""Rendering pages: one Jinja2 environment and a common page context.

Pages are generated from the journey definition alone: no per-journey templates. What a step
page shows (its fields, their options and which reveals which) comes from the step query
(runtime/queries/step_view.py), not from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wayline.identity.principal import Kind
from wayline.journeys.answer_text import long_date
from wayline.web.pages.display import computed_text, moment
from wayline.web.pages.forms import first_input_id

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parents[1] / "templates"))
TEMPLATES.env.filters["long_date"] = long_date
TEMPLATES.env.filters["moment"] = moment
TEMPLATES.env.filters["first_input_id"] = first_input_id
TEMPLATES.env.filters["computed_text"] = computed_text


def render(
    request: Request, template: str, title: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page with the common context: theme, CSRF token, who is signed in, the title."""
    csrf = request.app.state.csrf
    token = csrf.token_for(request)
    errors = context.get("errors") or []
    page_title = f"{'Error: ' if errors else ''}{title} – {request.app.state.theme.organisation}"
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "theme": request.app.state.theme,
            "csrf_token": token,
            "customer": request.app.state.sessions.customer(request),
            "staff_signed_in": _staff(request),
            "sign_in_available": request.app.state.settings.oidc_issuer is not None,
            "demo": request.app.state.settings.demo,
            "preview": request.app.state.settings.preview_banner,
            "page_title": page_title,
            **context,
        },
        status_code=status_code,
    )
    csrf.remember(request, response)
    return response


def _staff(request: Request) -> bool:
    principal = request.app.state.sessions.principal(request)
    return principal is not None and principal.kind is Kind.STAFF
