"""Prometheus metrics: what operators watch to see where customers struggle.

Labels are route templates, journey types, step and field names: never ids or values, so the
number of series stays bounded and no personal data reaches the metrics.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUEST_DURATION = Histogram(
    "wayline_http_request_duration_seconds",
    "HTTP request duration by route template.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
JOURNEYS_STARTED = Counter(
    "wayline_journeys_started_total", "Journeys started, by type.", ["journey"]
)
JOURNEYS_SUBMITTED = Counter(
    "wayline_journeys_submitted_total", "Journeys submitted, by type.", ["journey"]
)
STEP_SUBMISSIONS = Counter(
    "wayline_step_submissions_total",
    "Step submissions by journey, step and outcome (accepted or invalid).",
    ["journey", "step", "outcome"],
)
VALIDATION_ERRORS = Counter(
    "wayline_validation_errors_total",
    "Validation errors shown to customers, by journey, step and field.",
    ["journey", "step", "field"],
)
DATA_SOURCE_FAILURES = Counter(
    "wayline_data_source_failures_total",
    "Customer data fetches that failed, by source.",
    ["source"],
)
EFFECTS_RUN = Counter(
    "wayline_effects_total", "Effects run by the worker, by kind and result.", ["kind", "result"]
)
EFFECT_START_DELAY = Histogram(
    "wayline_effect_start_delay_seconds",
    "From an effect becoming due (the commit that queued it) to its first attempt starting.",
    ["kind"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30),
)
