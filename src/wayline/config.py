"""Settings from `WAYLINE_*` environment variables, with embedded defaults for the demo."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
PACKAGED_PARTNERS = PACKAGED_JOURNEYS.parent / "partners"
PACKAGED_MODELS = PACKAGED_JOURNEYS.parent / "models"
# The test provider's names for its two levels (identity/assurance.py keeps the same default).
DEFAULT_ACR_LEVELS = {"urn:wayline:loa:1": 1, "urn:wayline:loa:2": 2}


def _default_journeys() -> Path:
    local = Path("journeys")
    return local if (local / "motor-claim.yaml").exists() else PACKAGED_JOURNEYS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAYLINE_", extra="ignore")

    home: Path = Field(Path(".wayline"), description="The data folder for the embedded defaults.")
    database_url: str | None = Field(None, description="sqlite:///… or postgresql://…")
    storage_url: str | None = Field(None, description="Where uploads go: file://… or s3://…")
    s3_endpoint_url: str | None = Field(
        None, description="An S3-compatible server for s3:// storage (none: AWS itself)."
    )
    s3_kms_key_id: str | None = Field(
        None, description="Encrypt s3:// objects with this KMS key (aws:kms); none: AES256."
    )
    scanner_url: str | None = Field(
        None, description="Malware scanner: clamd://host:3310 or clamd:///path/to/clamd.sock."
    )
    journeys_dir: Path = Field(default_factory=_default_journeys)
    partners_dir: Path | None = Field(
        None,
        description="Declared partner operations (partners/*.yaml); none: the folder beside "
        "the packaged journeys.",
    )
    models_dir: Path | None = Field(
        None,
        description="Models decisions may score (models/<name>/<version>); none: the folder "
        "beside the packaged journeys.",
    )
    demo: bool = Field(False, description="Demo mode: demo sign-in and the demo dataset.")
    reload_journeys: bool = Field(
        False,
        description="Development: watch the definitions folder and deploy each changed "
        "definition as a new version (journeys in flight keep theirs). Not for production: "
        "one server's files would differ from another's.",
    )
    secret_key: str | None = Field(None, description="Signs session cookies; made up in demo.")
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = Field(
        40_000_000, ge=1, description="Photos with more pixels are refused, before decoding."
    )
    max_pdf_pages: int = Field(100, ge=1, description="PDFs with more pages are refused.")
    max_pdf_objects: int = Field(50_000, ge=1, description="PDFs with more objects are refused.")
    log_level: str = "INFO"
    # Observability (observability/, docs/observability.md): where spans go, and what the
    # worker's gauges count. The OTLP exporter reads the standard OTEL_EXPORTER_OTLP_*
    # variables itself; the endpoint's presence here only says that spans should go there.
    tracing: Literal["otlp", "console"] | None = Field(
        None,
        description="Where spans go: otlp, console, or none (otlp when an OTLP endpoint is set).",
    )
    otlp_endpoint: str | None = Field(
        None,
        validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description="The standard OpenTelemetry variable: set, spans are exported over OTLP.",
    )
    otlp_traces_endpoint: str | None = Field(
        None,
        validation_alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        description="The same, for traces alone (a full URL, …/v1/traces).",
    )
    deadline_risk_seconds: float = Field(
        300,
        gt=0,
        description="A deadline this close (or past) whose owed effect is not done is at risk.",
    )
    # Metrics outside demo mode: a port of their own, or /metrics behind a bearer token.
    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="Serve metrics on this port (serve and worker)."
    )
    metrics_host: str = Field("127.0.0.1", description="The interface the metrics port uses.")
    metrics_token: str | None = Field(
        None, min_length=16, description="A bearer token that opens /metrics on the main port."
    )
    secure_cookies: bool | None = Field(
        None,
        description="Cookies are Secure and __Host- named (HTTPS only); none: on outside demo.",
    )
    session_idle_minutes: float = Field(
        30, gt=0, description="A session ends after this long without a request."
    )
    session_max_hours: float = Field(
        12, gt=0, description="A session ends this long after sign-in, however active."
    )
    # Releases and previews (runtime/releases, cli_release.py; docs/releases.md).
    release_analysis: bool = Field(
        True, description="The worker analyses open releases at each of their intervals."
    )
    preview_banner: str | None = Field(
        None,
        max_length=100,
        description="A preview environment: every page shows a 'Preview' banner with this "
        "text (the branch or pull request). `wayline preview` sets it.",
    )

    def resolved_partners_dir(self) -> Path:
        return self.partners_dir or PACKAGED_PARTNERS

    def resolved_models_dir(self) -> Path:
        return self.models_dir or PACKAGED_MODELS

    connectors: Path | None = Field(
        None,
        description="Partner connectors (connectors.yaml); none: only demo mode starts, "
        "on the demo's in-process dataset.",
    )
    public_url: str = Field("http://localhost:8000", description="Where customers reach us.")
    operations_email: str = "claims-operations@example.com"
    effect_max_attempts: int = Field(8, ge=1)
    effect_lease_seconds: float = Field(
        60, gt=0, description="How long a claimed effect is a worker's before others retry it."
    )
    effect_max_age: timedelta = Field(
        timedelta(hours=24),
        gt=timedelta(0),
        description="An effect still failing this long after its first attempt is "
        "dead-lettered (an ISO 8601 duration, like PT24H), even while its partner's breaker "
        "postpones it.",
    )
    worker_concurrency: int = Field(32, ge=1, le=256, description="Effects run at once.")

    # Limits on abuse (web/rate_limits.py, web/connections.py; docs/operations.md says why
    # these numbers). Each rate is in the `limits` notation: "10/minute", "60/minute;600/hour".
    rate_limits: bool = Field(True, description="Per-client rate limits; off for load tests.")
    rate_limit_storage: str = Field(
        "memory://", description="Where counts are kept: memory:// (one process) or redis://…"
    )
    rate_limit_sign_in: str = Field("10/minute", description="Sign-ins, per client address.")
    rate_limit_sign_in_start: str = Field(
        "30/minute", description="Sign-in pages and provider redirects, per client address."
    )
    rate_limit_journey_start: str = Field("20/hour", description="Journeys started, per client.")
    rate_limit_step_writes: str = Field(
        "60/minute;600/hour", description="Steps, drafts and sends, per client."
    )
    rate_limit_uploads: str = Field("20/minute;100/hour", description="Uploads, per client.")
    rate_limit_email_codes: str = Field(
        "3/minute;10/hour", description="Email codes and resume links sent, per client address."
    )
    # Visitors: journeys anyone may start (identity/visitors.py, docs/identity.md).
    visitor_code_minutes: float = Field(
        10, gt=0, description="An email code works for this long after it is sent."
    )
    visitor_max_wrong_codes: int = Field(
        5, ge=1, description="Wrong codes (per journey, per email) that lock verification."
    )
    visitor_lock_minutes: float = Field(
        15, gt=0, description="How long too many wrong codes lock verification."
    )
    visitor_link_hours: float = Field(
        24, gt=0, description="A resume link works once, for this long after it is sent."
    )
    trusted_proxies: str = Field(
        "", description="Proxies whose X-Forwarded-For is believed (IPs or CIDRs, commas)."
    )
    file_replacements: int = Field(
        5, ge=0, description="Files beyond a file field's maximum kept for replacing others."
    )
    header_timeout_seconds: float = Field(
        10, gt=0, description="A connection that has not sent a whole request head is closed."
    )
    max_header_bytes: int = Field(
        32 * 1024, ge=1024, description="A request line and headers larger than this get 431."
    )
    keep_alive_seconds: int = Field(5, ge=1, description="Idle keep-alive connections close.")
    max_connections: int = Field(
        1000, ge=1, description="Connections and requests at once; more are answered 503."
    )
    graceful_shutdown_seconds: int = Field(
        20, ge=1, description="On stop, requests in flight get this long to finish."
    )

    # Journey events as CloudEvents (events/, docs/events.md): the relay publishes the
    # events' outbox to this bus; with none, events are kept in the database only.
    event_bus: str = Field(
        "none", description="Where events go: nats://host:4222, eventbridge://bus-name or none."
    )
    event_deployment: str = Field(
        "local",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="The deployment's name in each event's source: /wayline/{deployment}/...",
    )
    event_schema_base: str = Field(
        "https://schemas.wayline.dev/events",
        description="Where event schemas are published: dataschema is {base}/{type}/v{n}.json.",
    )
    event_stream: str = Field(
        "WAYLINE", pattern=r"^[A-Za-z0-9_-]{1,32}$", description="The JetStream stream's name."
    )
    event_subject_prefix: str = Field(
        "wayline",
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="First token of every NATS subject; the stream takes <prefix>.>.",
    )
    event_relay_batch: int = Field(500, ge=1, le=10_000, description="Events one claim takes.")
    event_relay_lease_seconds: float = Field(
        30, gt=0, description="A relay that dies loses its claimed events after this long."
    )
    event_relay_poll_seconds: float = Field(
        0.05, gt=0, description="How often an idle relay looks for new events."
    )
    event_publish_timeout_seconds: float = Field(
        5, gt=0, description="How long the relay waits for the bus to confirm a batch."
    )

    # Sign-in through the organisation's OpenID Connect providers (identity/oidc.py,
    # docs/identity.md): one for customers, one for staff (the same issuer may serve both).
    # Each provider needs all three of its settings, or none.
    oidc_issuer: str | None = Field(None, description="The customers' OpenID provider (issuer).")
    oidc_client_id: str | None = Field(None, description="Wayline's client id there.")
    oidc_client_secret: SecretStr | None = Field(None, description="Its client secret.")
    staff_oidc_issuer: str | None = Field(None, description="The staff's OpenID provider.")
    staff_oidc_client_id: str | None = Field(None, description="Wayline's staff client id.")
    staff_oidc_client_secret: SecretStr | None = Field(None, description="Its client secret.")
    oidc_roles_claim: str = Field(
        "roles",
        min_length=1,
        description="The ID token claim naming staff roles; a dotted path reaches into objects "
        "(realm_access.roles in Keycloak); a list or a space-separated string.",
    )
    oidc_subject_claim: str = Field(
        "sub",
        min_length=1,
        description="The claim holding the customer's id in the systems of record.",
    )
    oidc_acr_levels: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_ACR_LEVELS),
        description="JSON: each acr value the provider sends and the assurance level it means.",
    )
    oidc_scopes: str = Field("openid profile", description="The scopes asked for at sign-in.")
    oidc_leeway_seconds: int = Field(
        60, ge=0, le=600, description="Clock difference allowed with the provider's tokens."
    )

    # Retention and erasure (runtime/lifecycle.py, cli_subjects.py; docs/data-protection.md).
    retention_interval_hours: float = Field(
        24,
        ge=0,
        description="How often the worker removes what retention says has expired (0: never; "
        "run `wayline retention run` instead).",
    )

    # Data protection (protection/, docs/data-protection.md): field-level envelope encryption
    # of classified values, their keys and rotation.
    key_provider: str = Field(
        "local",
        pattern=r"^(local|none|kms://.+)$",
        description="Who holds the key-encryption keys: local (a keyring file in WAYLINE_HOME, "
        "made 0600), kms://KEY-ID (AWS KMS), or none (no field encryption: benchmarks only).",
    )
    kms_endpoint_url: str | None = Field(
        None, description="A KMS-compatible endpoint for kms:// (none: AWS itself)."
    )
    key_cache_seconds: float = Field(
        300, ge=0, description="How long an unwrapped data key is kept in memory."
    )
    key_cache_size: int = Field(10_000, ge=1, description="Unwrapped data keys kept at most.")

    # The brand theme; colours are checked for contrast when the app starts.
    organisation: str = "Wayline Insurance"
    logo: Path | None = Field(None, description="An SVG or PNG logo file, served as /brand/logo.")
    colour_brand: str = "#1d70b8"
    colour_text: str = "#0b0c0c"
    colour_background: str = "#ffffff"
    colour_focus: str = "#ffdd00"
    colour_error: str = "#d4351c"
    colour_success: str = "#00703c"

    # --- Insights (docs/insights.md): the DuckDB copy of the event log and its pages ---
    insights_path: Path | None = Field(
        None, description="The insights DuckDB file; insights.duckdb in WAYLINE_HOME when unset."
    )
    insights_abandon_after_days: float = Field(
        30,
        gt=0,
        description="Quiet this long, an unsent journey counts as dropped (when its definition "
        "sets no abandon_after).",
    )
    insights_refresh_on_load: bool = Field(
        True, description="The insights page takes in new events before it answers."
    )
    insights_source: str = Field(
        "database",
        pattern=r"^(database|bus)$",
        description="Where insights take events in from: the database's events table, or the "
        "bus (a durable JetStream consumer; needs WAYLINE_EVENT_BUS=nats://...).",
    )
    insights_consumer: str = Field(
        "wayline-insights",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The durable JetStream consumer insights read the bus with.",
    )
    drift_last_n: int = Field(
        500,
        ge=1,
        description="The drift check compares training with this many most recent scored "
        "journeys (docs/models.md).",
    )
    drift_threshold: float = Field(
        0.2,
        gt=0,
        description="A feature whose PSI against training is above this has drifted: the "
        "insight ingest warns.",
    )

    @field_validator("oidc_acr_levels")
    @classmethod
    def _levels_from_one_up(cls, levels: dict[str, int]) -> dict[str, int]:
        if any(level < 1 for level in levels.values()):
            raise ValueError("WAYLINE_OIDC_ACR_LEVELS: every level is a whole number from 1 up")
        return levels

    @model_validator(mode="after")
    def _providers_whole(self) -> Settings:
        """A provider named without its client, or a client without its provider, is refused
        at start: half a configuration would sign nobody in, silently."""
        for prefix, values in (
            ("WAYLINE_OIDC", (self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret)),
            (
                "WAYLINE_STAFF_OIDC",
                (self.staff_oidc_issuer, self.staff_oidc_client_id, self.staff_oidc_client_secret),
            ),
        ):
            given = [_filled(value) for value in values]
            if any(given) and not all(given):
                names = ("ISSUER", "CLIENT_ID", "CLIENT_SECRET")
                missing = [
                    f"{prefix}_{name}" for name, ok in zip(names, given, strict=True) if not ok
                ]
                raise ValueError(
                    f"{prefix}_ISSUER, _CLIENT_ID and _CLIENT_SECRET go together: "
                    f"set {', '.join(missing)} too, or none of them"
                )
        return self

    @model_validator(mode="after")
    def _insights_bus_readable(self) -> Settings:
        """Insights read the bus back through a JetStream consumer: EventBridge delivers to
        its rules' targets, and with no bus there is nothing to read."""
        if self.insights_source == "bus" and not self.event_bus.lower().startswith(
            ("nats://", "tls://")
        ):
            raise ValueError(
                "WAYLINE_INSIGHTS_SOURCE=bus reads NATS JetStream: "
                "set WAYLINE_EVENT_BUS=nats://host:4222, or WAYLINE_INSIGHTS_SOURCE=database"
            )
        return self

    def resolved_tracing(self) -> str | None:
        """The span exporter to use: the one named, else OTLP when an endpoint is set."""
        endpoint = self.otlp_traces_endpoint or self.otlp_endpoint
        return self.tracing or ("otlp" if endpoint else None)

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'wayline.db').resolve()}"

    def cookies_secure(self) -> bool:
        """Secure cookies unless told otherwise, except in demo mode (plain HTTP on loopback)."""
        return self.secure_cookies if self.secure_cookies is not None else not self.demo

    def resolved_storage_url(self) -> str:
        return self.storage_url or (self.home / "files").resolve().as_uri()

    def resolved_insights_path(self) -> Path:
        return self.insights_path or (self.home / "insights.duckdb").resolve()


def _filled(value: str | SecretStr | None) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)
