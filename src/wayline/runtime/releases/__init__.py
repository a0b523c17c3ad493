"""Safe releases of journey definition versions (docs/releases.md): a new version is
released to a share of new journeys (the canary), compared with the version before it
(stable) on KPIs read from the events, and promoted, paused or rolled back by itself.

- `strategy`: the declared stages, KPIs, thresholds and minimum sample (YAML);
- `assignment`: which version a new journey gets (a stable hash of its customer);
- `kpis`: the KPIs of one arm, computed from its journeys and events (pure);
- `analysis`: the judgement of an interval and what it decides (pure);
- `service`: starting, analysing and deciding, with the log and the audit entries;
- `dora`: the four DORA metrics from the release log and the definitions' history.
"""
