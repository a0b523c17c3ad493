"""Scoring the committed claim-triage version: a probability with its top reasons in words,
sorted, adding up (with the base value) to the model's log-odds, equal to SHAP's linear
values; missing values and unknown categories score; a wrong kind of value is refused."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from wayline.models import FeatureValueError, Model, load_model
from wayline.models.features import matrix
from wayline.sandbox.claim_training import claim_history

ROOT = Path(__file__).resolve().parents[2] / "models"
SUSPICIOUS = {
    "estimate_vs_typical": 4.2,
    "incident_type": "vandalism",
    "days_since_policy_start": 9,
    "previous_claims_2y": 2,
    "photos_count": 1,
    "night_incident": True,
    "theft_at_night": False,
    "police_report": False,
    "injuries": False,
}


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(ROOT, "claim-triage", 1)


def test_a_score_comes_with_its_top_three_reasons_in_words(model: Model) -> None:
    scored = model.score(SUSPICIOUS)
    assert (scored.model, scored.version) == ("claim-triage", 1)
    assert 0.5 < scored.score < 1.0
    assert len(scored.reasons) == 3
    sizes = [abs(r.contribution) for r in scored.reasons]
    assert sizes == sorted(sizes, reverse=True)
    first = scored.reasons[0]
    assert first.feature == "estimate_vs_typical" and first.contribution > 0
    assert first.words == "estimate amount much higher than similar claims"
    assert (
        first.text == f"estimate amount much higher than similar claims ({first.contribution:+.2f})"
    )
    soon = next(
        r for r in model.score(SUSPICIOUS, None).reasons if r.feature == "days_since_policy_start"
    )
    assert soon.words == "the incident came soon after the policy started (9 days)"
    assert soon.contribution > 0


def test_contributions_and_base_value_add_up_to_the_log_odds_of_the_score(model: Model) -> None:
    for row in claim_history(20, seed=4):
        scored = model.score(row, top_reasons=None)
        assert len(scored.reasons) == len(model.card.features)
        total = scored.base_value + sum(r.contribution for r in scored.reasons)
        assert total == pytest.approx(scored.log_odds, abs=1e-9)
        assert scored.score == pytest.approx(1 / (1 + math.exp(-scored.log_odds)), abs=1e-12)
        expected = model.estimator.predict_proba(matrix(model.card.features, [row]))[0, 1]
        assert scored.score == pytest.approx(expected, abs=1e-12)


def test_contributions_equal_shap_linear_explainer_values(model: Model) -> None:
    shap = pytest.importorskip("shap")
    training = claim_history(600, seed=11)
    explainer = model.explainer
    # The same background the model explains against: the mean prepared training row.
    masker = (explainer.background, np.eye(len(explainer.columns)))
    reference = shap.LinearExplainer((explainer.coef, explainer.intercept), masker)
    prepared = np.asarray(explainer.prepare.transform(matrix(model.card.features, training)))
    values = reference.shap_values(prepared)
    assert reference.expected_value == pytest.approx(explainer.base_value, abs=1e-9)
    for index, row in enumerate(training[:50]):
        ours = {r.feature: r.contribution for r in model.score(row, None).reasons}
        for feature, contribution in ours.items():
            columns = [i for i, name in enumerate(explainer.columns) if name == feature]
            assert contribution == pytest.approx(values[index, columns].sum(), abs=1e-9)


def test_missing_values_are_imputed_and_said(model: Model) -> None:
    scored = model.score({}, top_reasons=None)
    assert 0.0 < scored.score < 1.0
    words = {r.feature: r.words for r in scored.reasons}
    assert words["estimate_vs_typical"] == "no estimate given (a repairer will quote)"
    assert words["injuries"] == "not known whether anyone was injured"
    assert model.score({"injuries": None}).score == scored.score


def test_an_unknown_category_scores_and_is_said(model: Model) -> None:
    scored = model.score({**SUSPICIOUS, "incident_type": "meteor strike"}, top_reasons=None)
    assert 0.0 < scored.score < 1.0
    reason = next(r for r in scored.reasons if r.feature == "incident_type")
    assert reason.words == "an incident type the model was not trained on (meteor strike)"


@pytest.mark.parametrize(
    ("feature", "value"),
    [
        ("photos_count", "three"),
        ("injuries", "yes"),
        ("incident_type", 3),
        ("estimate_vs_typical", math.nan),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused(model: Model, feature: str, value: object) -> None:
    with pytest.raises(FeatureValueError, match=feature):
        model.score({**SUSPICIOUS, feature: value})
