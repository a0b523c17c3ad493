"""Training: reproducible to the byte for a seed, a different seed gives a different file, and
the card says what the model was trained on, how good it is and whom its scores fall on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from wayline.models import TrainedModel, TrainingDataError, load_spec, train
from wayline.sandbox.claim_training import claim_history

SPEC = load_spec(Path(__file__).resolve().parents[2] / "models" / "claim-triage" / "spec.yaml")
DAY = date(2026, 3, 27)
ROWS = claim_history(1200, seed=7)


def _train(seed: int = 7) -> TrainedModel:
    return train(SPEC, ROWS, seed=seed, version=3, trained_on=DAY, source="test rows")


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return _train()


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(
    trained: TrainedModel,
) -> None:
    assert _train().artifact == trained.artifact
    assert _train(seed=8).artifact != trained.artifact


def test_the_card_has_data_features_metrics_and_date(trained: TrainedModel) -> None:
    card = trained.card
    assert (card.name, card.version, card.date) == ("claim-triage", 3, DAY)
    assert card.data.rows == 1200 and card.data.seed == 7 and card.data.source == "test rows"
    assert card.data.training_rows + card.data.evaluation_rows == 1200
    assert card.data.positives == sum(row["needs_handler"] for row in ROWS)
    assert [f.name for f in card.features] == [f.name for f in SPEC.features]
    assert card.features[0].words == SPEC.features[0].words  # words travel with the version
    assert 0.6 < card.metrics.roc_auc <= 1.0
    points = {p.name: p for p in card.metrics.operating_points}
    assert set(points) == {"score ≥ 0.5", "score ≥ 0.8", "recall 0.8"}
    assert points["recall 0.8"].recall >= 0.8
    assert points["score ≥ 0.8"].flagged <= points["score ≥ 0.5"].flagged
    assert card.estimator.libraries["scikit-learn"] and card.estimator.libraries["skops"]


def test_the_card_reports_scores_by_segment(trained: TrainedModel) -> None:
    rows = {(s.segment, s.member): s for s in trained.card.score_distribution}
    everyone = rows[("all", True)]
    assert everyone.count == trained.card.data.evaluation_rows
    for segment in SPEC.segments:
        inside, outside = rows[(segment, True)], rows[(segment, False)]
        assert inside.count + outside.count == everyone.count
        assert inside.count > 0
        assert inside.mean is not None and inside.p50 is not None and inside.p90 is not None
        assert 0.0 <= inside.p50 <= inside.p90 <= 1.0
    # The segments are reported, never read: no feature is named like one.
    assert not set(SPEC.segments) & {f.name for f in trained.card.features}


def test_the_card_keeps_reference_bins_for_every_feature(trained: TrainedModel) -> None:
    assert [r.feature for r in trained.card.reference] == [f.name for f in SPEC.features]
    for ref in trained.card.reference:
        assert len(ref.proportions) == len(ref.bins)
        assert sum(ref.proportions) == pytest.approx(1.0)
    estimate = next(r for r in trained.card.reference if r.feature == "estimate_vs_typical")
    assert estimate.proportions[-1] > 0.3  # thefts and repairer settlements have no estimate


def test_rows_of_one_class_do_not_train() -> None:
    same = [{**row, "needs_handler": False} for row in ROWS[:200]]
    with pytest.raises(TrainingDataError, match="both true and false"):
        train(SPEC, same, seed=1, version=1, trained_on=DAY, source="x")


def test_the_generated_history_is_seeded() -> None:
    assert claim_history(50, seed=7) == ROWS[:50]
    assert claim_history(50, seed=8) != ROWS[:50]
