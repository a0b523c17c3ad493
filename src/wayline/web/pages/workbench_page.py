"""What every workbench page shares: who is working, the `Cases` service, and rendering in
the staff layout (with the words staff read statuses and events in), error pages included."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from wayline.identity.principal import Principal
from wayline.runtime.cases import Cases
from wayline.web.pages import workbench_words as words
from wayline.web.pages.render import render


def staff_of(request: Request) -> Principal:
    """The signed-in member of staff (the route's access check let only them in)."""
    principal = request.app.state.sessions.principal(request)
    assert principal is not None  # the route's access check answered otherwise
    return principal  # type: ignore[no-any-return]  # Starlette's State is untyped


def cases_of(request: Request) -> Cases:
    return request.app.state.cases  # type: ignore[no-any-return]  # Starlette's State is untyped


def page(
    request: Request, template: str, title: str, status: int = 200, **context: Any
) -> Response:
    """A workbench page in the staff layout."""
    return render(
        request,
        template,
        title,
        status,
        staff_page=True,
        principal=staff_of(request),
        words=words,
        **context,
    )


def not_found(request: Request, message: str) -> Response:
    """404 in the staff layout, with the way back to the queues. `message` is the page's own
    words, never the id asked for."""
    return page(
        request,
        "workbench/error.html",
        "Page not found",
        404,
        heading="Page not found",
        message=message,
    )
