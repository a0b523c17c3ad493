"""Address lookup simulator: the addresses at a UK postcode.

SW1A 1AA and LS1 4AP have the demo customers' streets; ZZ1 1ZZ has no addresses; ZZ1 5XX makes
the service fail (503), so a journey's "enter it yourself" fallback can be tried; any other
valid postcode has 1 to 5 High Street, Sampleton."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query

from wayline.sandbox.app import partner_app
from wayline.sandbox.faults import Faults
from wayline.sandbox.partners_common import Today, normal_postcode, valid_postcode

STREETS = {
    "SW1A 1AA": ([f"{n} Acacia Avenue" for n in (1, 2, 3)], "London"),
    "LS1 4AP": ([f"{n} Mill Road" for n in (20, 22, 24)], "Leeds"),
    "ZZ1 1ZZ": ([], ""),
}
FAILING = "ZZ1 5XX"


def addresses(postcode: str) -> list[dict[str, Any]]:
    """The addresses at a valid, normalised postcode; each id names its postcode and place."""
    lines, town = STREETS.get(postcode, ([f"{n} High Street" for n in range(1, 6)], "Sampleton"))
    compact = postcode.replace(" ", "").lower()
    return [
        {
            "address_id": f"adr-{compact}-{index}",
            "line_1": line,
            "line_2": None,
            "town": town,
            "postcode": postcode,
            "label": f"{line}, {town} {postcode}",
        }
        for index, line in enumerate(lines, start=1)
    ]


def address_lookup(faults: Faults, today: Today) -> FastAPI:
    app = partner_app("address lookup", faults)

    @app.get("/addresses")
    def lookup(postcode: Annotated[str, Query(min_length=1, max_length=10)]) -> dict[str, Any]:
        normal = normal_postcode(postcode)
        if not valid_postcode(normal):
            raise HTTPException(422, "postcode is not a valid UK postcode")
        if normal == FAILING:
            raise HTTPException(503, "address service unavailable")
        return {"postcode": normal, "addresses": addresses(normal)}

    @app.get("/addresses/{address_id}")
    def one(address_id: str) -> dict[str, Any]:
        parts = address_id.split("-")
        if len(parts) == 3 and parts[0] == "adr" and valid_postcode(parts[1]):
            for found in addresses(normal_postcode(parts[1])):
                if found["address_id"] == address_id:
                    return found
        raise HTTPException(404, "no such address")

    return app
