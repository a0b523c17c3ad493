"""Prometheus metrics: what operators watch to see where customers struggle.

Labels are route templates, journey types, step and field names: never ids or values, so the
number of series stays bounded and no personal data reaches the metrics. Per-journey metrics
also carry `version`, the definition version (a 12-character content hash): bounded too, since
only deployed versions ever run, and what a canary's analysis compares.

The alerting rules and the dashboard in deploy/observability name only metrics registered here
or beside the code that measures them (connectors/http.py, runtime/effects.py,
web/rate_limits.py); tests/unit/test_observability_assets.py checks that they do.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_DURATION = Histogram(
    "wayline_http_request_duration_seconds",
    "HTTP request duration by route template.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
JOURNEYS_STARTED = Counter(
    "wayline_journeys_started_total",
    "Journeys started, by type and definition version.",
    ["journey", "version"],
)
JOURNEYS_SUBMITTED = Counter(
    "wayline_journeys_submitted_total",
    "Journeys submitted, by type and definition version.",
    ["journey", "version"],
)
JOURNEYS_ENDED = Counter(
    "wayline_journeys_ended_total",
    "Journeys that reached an end (completed, declined, withdrawn, expired), by type, "
    "definition version and end.",
    ["journey", "version", "status"],
)
STEP_SUBMISSIONS = Counter(
    "wayline_step_submissions_total",
    "Step submissions by journey, definition version, step and outcome (accepted or invalid).",
    ["journey", "version", "step", "outcome"],
)
VALIDATION_ERRORS = Counter(
    "wayline_validation_errors_total",
    "Validation errors shown to customers, by journey, definition version, step and field.",
    ["journey", "version", "step", "field"],
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
EFFECT_QUEUE_AGE = Gauge(
    "wayline_effect_queue_age_seconds",
    "How long the oldest due effect has waited to run (0 when none is due); the worker "
    "refreshes it every few seconds from the outbox, so every worker reports the same queue.",
)
DEADLINES_AT_RISK = Gauge(
    "wayline_deadlines_at_risk",
    "Deadlines (a payout's, say) due within WAYLINE_DEADLINE_RISK_SECONDS, or already past, "
    "whose owed effect is not done yet, by the deadline's kind; refreshed by the worker.",
    ["kind"],
)
RELEASE_ANALYSIS_FAILING = Gauge(
    "wayline_release_analysis_failing",
    "1 while the release analysis finds a canary definition version worse than the version it "
    "replaces, 0 once it passes. The release analysis (the canary release of a definition "
    "version) sets it; nothing else in Wayline does.",
    ["journey", "version"],
)
# Journey events published as CloudEvents (events/relay.py).
EVENTS_PUBLISHED = Counter(
    "wayline_events_published_total",
    "Journey events the relay published (or replayed), by bus and result.",
    ["bus", "result"],
)
EVENT_PUBLISH_DELAY = Histogram(
    "wayline_event_publish_delay_seconds",
    "From an event being recorded to the bus confirming it.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300),
)
