"""Training: feature rows in, a model file and its card out, the same bytes for the same seed.

Rows are mappings holding each feature's value (None when missing), the label (true or
false) and each segment's flag. They are split, stratified, three quarters to train and a
quarter to evaluate, with the seed. The pipeline imputes numbers and flags with the training
median and standardises them, imputes a missing category as a category of its own and one-hot
encodes categories (a value never seen in training encodes as none of them), then fits a
logistic regression (lbfgs, which uses no randomness).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from wayline.models import card as cards
from wayline.models import drift, evaluation, storage
from wayline.models.explain import LinearExplainer
from wayline.models.features import Matrix, matrix
from wayline.models.spec import Kind, ModelSpec

EVALUATION_SHARE = 0.25
MISSING_CATEGORY = "(missing)"
LIBRARIES = ("scikit-learn", "skops", "numpy", "scipy")
METHOD = (
    "Exact linear attributions: each feature contributes coef × (x − training mean) in the "
    "prepared space (SHAP values of the linear model, features taken as independent)."
)


class TrainingDataError(ValueError):
    """Rows that cannot train the model (no rows, a label that is not yes/no, one class)."""


@dataclass(frozen=True)
class TrainedModel:
    """A trained version: the model file's bytes and its card."""

    artifact: bytes
    card: cards.Card


def train(
    spec: ModelSpec,
    rows: Sequence[Mapping[str, Any]],
    *,
    seed: int,
    version: int,
    trained_on: date,
    source: str,
) -> TrainedModel:
    """Train `spec` on `rows`; the same rows, seed and version give the same artifact bytes."""
    from sklearn.model_selection import train_test_split

    labels = _flags(rows, spec.label.name)
    if labels.all() or not labels.any():
        raise TrainingDataError(f"{spec.label.name} needs both true and false rows")
    inputs = matrix(spec.features, rows)
    fit_rows, held_rows = train_test_split(
        np.arange(len(rows)), test_size=EVALUATION_SHARE, random_state=seed, stratify=labels
    )
    pipeline = build_pipeline(spec).fit(inputs[fit_rows], labels[fit_rows])
    explainer = explainer_of(pipeline, inputs[fit_rows], spec)
    scores = np.asarray(pipeline.predict_proba(inputs[held_rows])[:, 1], dtype=np.float64)
    segments = {name: _flags(rows, name)[held_rows] for name in spec.segments}
    card = cards.Card(
        name=spec.name,
        version=version,
        date=trained_on,
        description=spec.description,
        label=spec.label,
        data=cards.Data(
            source=source,
            rows=len(rows),
            positives=int(labels.sum()),
            base_rate=round(float(labels.mean()), 4),
            training_rows=len(fit_rows),
            evaluation_rows=len(held_rows),
            seed=seed,
        ),
        features=spec.features,
        segments=spec.segments,
        estimator=cards.Estimator(
            kind="logistic regression (scikit-learn pipeline)",
            settings={"C": spec.estimator.regularisation, "solver": "lbfgs"},
            libraries={name: importlib.metadata.version(name) for name in LIBRARIES},
        ),
        metrics=evaluation.metrics(labels[held_rows], scores),
        score_distribution=evaluation.by_segment(scores, labels[held_rows], segments),
        explanation=cards.Explanation(
            method=METHOD, units="log-odds", base_value=round(explainer.base_value, 6)
        ),
        reference=[
            drift.reference(f, [rows[int(i)].get(f.name) for i in fit_rows]) for f in spec.features
        ],
        trusted_types=list(storage.TRUSTED_TYPES),
    )
    bundle = {
        "pipeline": pipeline,
        "background": explainer.background,
        "columns": list(explainer.columns),
    }
    return TrainedModel(artifact=storage.to_bytes(bundle), card=card)


def build_pipeline(spec: ModelSpec) -> Any:
    """The unfitted pipeline for `spec`'s features, in the spec's order."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [i for i, f in enumerate(spec.features) if f.kind is not Kind.CATEGORY]
    categories = [i for i, f in enumerate(spec.features) if f.kind is Kind.CATEGORY]
    prepare = ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                categories,
            ),
        ]
    )
    regression = LogisticRegression(C=spec.estimator.regularisation, max_iter=1000)
    return Pipeline([("prepare", prepare), ("regression", regression)])


def explainer_of(pipeline: Any, fitted_on: Matrix, spec: ModelSpec) -> LinearExplainer:
    """The explainer of a fitted pipeline, against the mean of the rows it was fitted on."""
    prepare, regression = pipeline.named_steps["prepare"], pipeline.named_steps["regression"]
    background = np.asarray(prepare.transform(fitted_on), dtype=np.float64).mean(axis=0)
    return LinearExplainer(
        prepare=prepare,
        coef=np.asarray(regression.coef_[0], dtype=np.float64),
        intercept=float(regression.intercept_[0]),
        background=background,
        columns=_columns(prepare, spec),
    )


def _columns(prepare: Any, spec: ModelSpec) -> tuple[str, ...]:
    """The feature each prepared column comes from, in the prepared order."""
    numeric = [f.name for f in spec.features if f.kind is not Kind.CATEGORY]
    categorical = [f.name for f in spec.features if f.kind is Kind.CATEGORY]
    if not categorical:
        return tuple(numeric)
    encoder = prepare.named_transformers_["categories"].named_steps["onehotencoder"]
    widths = [len(values) for values in encoder.categories_]
    expanded = [name for name, width in zip(categorical, widths, strict=True) for _ in range(width)]
    return (*numeric, *expanded)


def _flags(rows: Sequence[Mapping[str, Any]], name: str) -> evaluation.Labels:
    if not rows:
        raise TrainingDataError("no training rows")
    values = [row.get(name) for row in rows]
    if any(not isinstance(value, bool) for value in values):
        raise TrainingDataError(f"{name} must be true or false in every row")
    return np.array(values, dtype=np.bool_)
