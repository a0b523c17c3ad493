"""Partner connectors from configuration (connectors.yaml): base URL, credentials by
environment variable, timeouts, retry policy and circuit breaker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from wayline.connectors.http import PartnerConfig
from wayline.journeys.loader import YAML_LOADER


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connect_timeout: float = Field(1.0, gt=0)
    read_timeout: float = Field(3.0, gt=0)
    retries: int = Field(3, ge=0, le=10)
    backoff_base: float = Field(0.05, ge=0)
    backoff_max: float = Field(1.0, ge=0)
    breaker_failures: int = Field(5, ge=1)
    breaker_reset: float = Field(5.0, gt=0)


class _Partner(_Policy):
    base_url: str
    token_env: str | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    defaults: dict[str, Any] = Field(default_factory=dict)
    partners: dict[str, dict[str, Any]]


def load_partner_configs(
    path: Path, urls: dict[str, str] | None = None
) -> dict[str, PartnerConfig]:
    """Read connectors.yaml; `urls` (the demo's sandbox) replace the base URLs it names."""
    document = _File.model_validate(yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER))
    configs = {}
    for name, options in document.partners.items():
        partner = _Partner.model_validate({**document.defaults, **options})
        token = os.environ.get(partner.token_env) if partner.token_env else None
        values = partner.model_dump(exclude={"base_url", "token_env"})
        base_url = (urls or {}).get(name, partner.base_url)
        configs[name] = PartnerConfig(name=name, base_url=base_url, token=token, **values)
    return configs
