"""The methods a path answers to, read from the routing table: the `Allow` header of a 405.

The router stops at the first route whose path matches and names only that route's methods,
so a path served by two routes (a step's PATCH draft and POST submit) was said to allow one of
them. Here each method is tried against the whole routing table, through the routes' own
public `matches`, and HEAD is allowed wherever GET is (web/head.py makes it so).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route in `routes` answers at the request's path, in a fixed order."""
    # A fresh scope: routing rewrites root_path in place when it enters a mount.
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    found = [
        method
        for method in METHODS
        if _answers(
            routes,
            {"type": "http", "path": scope["path"], "root_path": root_path, "method": method},
        )
    ]
    if "GET" in found:
        found.insert(1, "HEAD")
    return found


def _answers(routes: Sequence[BaseRoute], probe: Scope) -> bool:
    for route in routes:
        match, child = route.matches(probe)
        if match != Match.FULL:
            continue
        if not isinstance(route, Mount):
            return True
        # A mount matches on its path prefix alone; what is inside decides the method.
        if isinstance(route.app, StaticFiles):
            method: str = probe["method"]
            return method == "GET"
        if _answers(route.routes, {**probe, **child}):
            return True
    return False
