"""The models as journey definitions see them: each version's features with their
classification and expression, read from the cards (no model file is loaded), for the
loader's checks of a decision's `models` (journeys/model_checks.py)."""

from __future__ import annotations

from pathlib import Path

from wayline.journeys.model_checks import ModelFacts, ModelFeature
from wayline.models.registry import card, names, versions


def facts(root: Path) -> dict[str, ModelFacts]:
    found = {}
    for name in names(root):
        by_version = {
            version: tuple(
                ModelFeature(f.name, f.classification, f.expression, tuple(f.reads))
                for f in card(root, name, version).features
            )
            for version in versions(root, name)
        }
        found[name] = ModelFacts(name, by_version)
    return found
