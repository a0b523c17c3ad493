"""A partner's answer is read as the schema the caller names: a model, a plain type, a generic
alias such as list[Model], or a typing form such as Model | None (which is no class, so it must
not reach issubclass)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from wayline.connectors.http import PartnerClient, PartnerConfig, PartnerError


class Point(BaseModel):
    lat: float
    lon: float


def client_answering(content: bytes) -> PartnerClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=content))
    config = PartnerConfig(name="geocoder", base_url="http://partner", retries=0)
    return PartnerClient(config, transport=transport)


@pytest.fixture
def points() -> Iterator[PartnerClient]:
    client = client_answering(b'[{"lat": 51.5, "lon": -0.1}, {"lat": 52.2, "lon": 0.1}]')
    yield client
    client.close()


def test_a_model_schema_gives_the_model() -> None:
    client = client_answering(b'{"lat": 51.5, "lon": -0.1}')
    try:
        assert client.get("/point", Point) == Point(lat=51.5, lon=-0.1)
    finally:
        client.close()


def test_a_generic_alias_schema_gives_a_list_of_models(points: PartnerClient) -> None:
    assert points.get("/points", list[Point]) == [
        Point(lat=51.5, lon=-0.1),
        Point(lat=52.2, lon=0.1),
    ]


def test_a_plain_type_schema_gives_plain_data(points: PartnerClient) -> None:
    answer: list[Any] = points.get("/points", list)
    assert answer[0] == {"lat": 51.5, "lon": -0.1}


def test_a_typing_form_schema_is_read_too() -> None:
    client = client_answering(b"null")
    try:
        # Not a type[T] to a type checker, but read all the same at run time.
        assert client.get("/point", Point | None) is None
    finally:
        client.close()


def test_an_answer_of_the_wrong_shape_is_a_bad_response(points: PartnerClient) -> None:
    with pytest.raises(PartnerError) as failure:
        points.get("/points", Point)
    assert failure.value.reason == "bad_response"
