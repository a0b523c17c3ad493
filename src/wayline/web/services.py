"""The service layer as FastAPI dependencies, for the API and the pages alike: the commands and
queries that bootstrap wired and the app keeps on its state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from wayline.runtime.commands import Commands
from wayline.runtime.queries import Queries


async def commands(request: Request) -> Commands:
    # Async, so FastAPI runs it inline instead of in the threadpool: it does no I/O.
    found: Commands = request.app.state.commands  # Starlette's State is untyped; the app set it
    return found


async def queries(request: Request) -> Queries:
    found: Queries = request.app.state.queries  # Starlette's State is untyped; the app set it
    return found


CommandsDep = Annotated[Commands, Depends(commands)]
QueriesDep = Annotated[Queries, Depends(queries)]
