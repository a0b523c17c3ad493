"""Models on disk: `<root>/<name>/spec.yaml`, and each version in `<root>/<name>/<n>/`.

A version is a directory named by a whole number holding `model.skops` (the model file),
`card.json` (the card, with the features and their words as trained) and `card.md`. Versions
are never overwritten: a new training is a new version. Loading a version checks the model
file's types against the trusted list (storage.py) and that it matches its card.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from wayline.models.card import Card, markdown
from wayline.models.explain import LinearExplainer
from wayline.models.scoring import Model
from wayline.models.spec import ModelSpec, load_spec
from wayline.models.storage import from_bytes
from wayline.models.training import TrainedModel

MODEL_FILE = "model.skops"
CARD_JSON = "card.json"
CARD_MD = "card.md"
SPEC_FILE = "spec.yaml"


class NoSuchModel(LookupError):
    """No model, or no such version of it, under the root."""


class VersionExists(FileExistsError):
    """The version asked for is already there (versions are never overwritten)."""


def names(root: Path) -> list[str]:
    """The models under `root` (directories with a spec.yaml), sorted."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / SPEC_FILE).is_file())


def spec(root: Path, name: str) -> ModelSpec:
    """The spec of model `name` (NoSuchModel when there is none)."""
    path = root / name / SPEC_FILE
    if not path.is_file():
        raise NoSuchModel(f"no model {name!r} under {root} (no {name}/{SPEC_FILE})")
    return load_spec(path)


def versions(root: Path, name: str) -> list[int]:
    """The versions of `name` with both a model file and a card, in ascending order (a
    folder still being written, or left half-written, is not a version)."""
    folder = root / name
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.iterdir()
        if p.name.isdigit() and (p / MODEL_FILE).is_file() and (p / CARD_JSON).is_file()
    ]
    return sorted(int(p.name) for p in found)


def next_version(root: Path, name: str) -> int:
    """One more than the latest version (1 for the first)."""
    return max(versions(root, name), default=0) + 1


def save(root: Path, trained: TrainedModel) -> Path:
    """Write a trained version's model file and cards; VersionExists if it is there. The
    files are written into a temporary folder beside it, then renamed into place at once: a
    reader never meets a version without its card."""
    folder = root / trained.card.name / str(trained.card.version)
    if folder.exists():
        raise VersionExists(f"{folder} exists: versions are never overwritten")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".writing-", dir=folder.parent) as writing:
        staged = Path(writing) / "version"
        staged.mkdir()
        (staged / MODEL_FILE).write_bytes(trained.artifact)
        (staged / CARD_JSON).write_text(trained.card.to_json(), encoding="utf-8")
        (staged / CARD_MD).write_text(markdown(trained.card), encoding="utf-8")
        try:
            staged.rename(folder)
        except OSError as error:  # written meanwhile by another trainer
            raise VersionExists(f"{folder} exists: versions are never overwritten") from error
    return folder


def card(root: Path, name: str, version: int | None = None) -> Card:
    """The card of a version (the latest when none is given)."""
    folder = _version_folder(root, name, version)
    return Card.model_validate_json((folder / CARD_JSON).read_text(encoding="utf-8"))


def load_model(root: Path, name: str, version: int | None = None) -> Model:
    """A version ready to score (the latest when none is given).

    Raises UntrustedModel when the file holds a type outside the trusted list (nothing is
    loaded), and ValueError when the file and its card do not fit together."""
    folder = _version_folder(root, name, version)
    loaded_card = Card.model_validate_json((folder / CARD_JSON).read_text(encoding="utf-8"))
    bundle = from_bytes((folder / MODEL_FILE).read_bytes())  # the code's list, not the card's
    return model_from(loaded_card, bundle)


def model_from(loaded_card: Card, bundle: object) -> Model:
    """A Model from its card and the loaded bundle (a dict: pipeline, background, columns)."""
    if not isinstance(bundle, dict) or set(bundle) != {"pipeline", "background", "columns"}:
        raise ValueError("the model file does not hold a Wayline model bundle")
    pipeline = bundle["pipeline"]
    regression = pipeline.named_steps["regression"]
    columns = tuple(str(column) for column in bundle["columns"])
    known = {f.name for f in loaded_card.features}
    if not set(columns) <= known:
        raise ValueError(f"the model's columns {sorted(set(columns) - known)} are not in its card")
    explainer = LinearExplainer(
        prepare=pipeline.named_steps["prepare"],
        coef=np.asarray(regression.coef_[0], dtype=np.float64),
        intercept=float(regression.intercept_[0]),
        background=np.asarray(bundle["background"], dtype=np.float64),
        columns=columns,
    )
    return Model(loaded_card, explainer, pipeline)


def _version_folder(root: Path, name: str, version: int | None) -> Path:
    available = versions(root, name)
    if not available:
        raise NoSuchModel(f"no trained version of {name!r} under {root}")
    chosen = available[-1] if version is None else version
    if chosen not in available:
        raise NoSuchModel(f"{name!r} has no version {chosen} (versions: {available})")
    return root / name / str(chosen)
