"""Insights: where customers struggle, read from the event log.

`records.py` is the one shape events arrive in (from the database's events table today, from a
bus consumer later); `warehouse.py` keeps them in DuckDB, flattened for analysis; `ingest.py`
copies them incrementally; `queries.py` answers the questions (funnel, time per step,
validation errors, completion, partner failures, outcomes, decision and payment times);
`charts.py` draws the answers as accessible SVG; `experiments/` reads A/B experiments' arms
with their intervals and verdicts, and `interval_charts.py` draws them; `model_versions.py`
compares a decision model's version acted on with one in shadow, and `drift_log.py` keeps the
drift checks the ingest runs. Nothing here holds an
answer or a name: the events carry field names and message templates only.
"""
