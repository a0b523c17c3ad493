"""The error for input that is not valid text or JSON, on its own: web/strict_input.py raises
it and web/problems.py answers it, and strict_input also draws its answer with problems'
`error_response`, so the class cannot live in either without an import cycle."""

from __future__ import annotations

from starlette.exceptions import HTTPException


class MalformedInput(HTTPException):
    """Input that is not valid text or JSON: 400 when it cannot be read as JSON at all, 422
    with `errors` naming each bad field otherwise. (An HTTPException, so that FastAPI passes
    it on unchanged when it is raised while a body is read.)"""

    def __init__(self, status_code: int, detail: str, errors: list[dict[str, str]] | None = None):
        super().__init__(status_code, detail)
        self.errors = errors or []
