"""Models a journey's decision can use beside its rules (docs/models.md).

A model is declared in `models/<name>/spec.yaml` (spec.py), trained on feature rows into a
versioned directory of a skops file and a card (training.py, storage.py, card.py,
registry.py), and scores a case from its feature values with the reasons, in words, that
moved the score most (scoring.py, explain.py). drift.py compares recent feature rows with the
training data. Nothing here imports the demo: the command line passes the training rows in.
"""

from wayline.models.card import Card
from wayline.models.drift import DriftReport, FeatureDrift, Reference, check_drift, psi
from wayline.models.features import FeatureValueError
from wayline.models.registry import (
    NoSuchModel,
    VersionExists,
    card,
    load_model,
    names,
    next_version,
    save,
    spec,
    versions,
)
from wayline.models.scoring import Model, Reason, Scored
from wayline.models.spec import Feature, Kind, ModelSpec, SpecError, load_spec
from wayline.models.storage import TRUSTED_TYPES, UntrustedModel
from wayline.models.training import TrainedModel, TrainingDataError, train

__all__ = [
    "TRUSTED_TYPES",
    "Card",
    "DriftReport",
    "Feature",
    "FeatureDrift",
    "FeatureValueError",
    "Kind",
    "Model",
    "ModelSpec",
    "NoSuchModel",
    "Reason",
    "Reference",
    "Scored",
    "SpecError",
    "TrainedModel",
    "TrainingDataError",
    "UntrustedModel",
    "VersionExists",
    "card",
    "check_drift",
    "load_model",
    "load_spec",
    "names",
    "next_version",
    "psi",
    "save",
    "spec",
    "versions",
    "train",
]
