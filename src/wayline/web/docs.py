"""The API browsable at /docs: Swagger UI, served by us from the swagger-ui-bundle-v2 package.

FastAPI's own /docs page loads Swagger UI from a CDN and starts it with an inline script, both
of which our Content Security Policy forbids (scripts and styles from this origin only, none
inline), so the page came up blank. Here the page is plain HTML, its assets come from the
installed package, and Swagger UI is started by /static/docs.js.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse

from wayline.web.access import PUBLIC

ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
SERVED = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Wayline API</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/static/docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Add GET /docs and its assets (neither is part of the API's OpenAPI document)."""
    page = PAGE.format(openapi_url=app.openapi_url)

    def docs_page() -> HTMLResponse:
        return HTMLResponse(page)

    def asset(name: str) -> FileResponse:
        return FileResponse(ASSETS / name, media_type=SERVED[name])

    app.add_api_route(
        "/docs", docs_page, methods=["GET"], include_in_schema=False, dependencies=[PUBLIC]
    )
    for name in SERVED:
        app.add_api_route(
            f"/docs/assets/{name}",
            lambda name=name: asset(name),
            methods=["GET"],
            include_in_schema=False,
            dependencies=[PUBLIC],
        )
