"""Settings from `WAYLINE_*` environment variables, with embedded defaults for the demo."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


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
    demo: bool = Field(False, description="Demo mode: demo sign-in and the demo dataset.")
    secret_key: str | None = Field(None, description="Signs session cookies; made up in demo.")
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = Field(
        40_000_000, ge=1, description="Photos with more pixels are refused, before decoding."
    )
    max_pdf_pages: int = Field(100, ge=1, description="PDFs with more pages are refused.")
    max_pdf_objects: int = Field(50_000, ge=1, description="PDFs with more objects are refused.")
    log_level: str = "INFO"
    tracing: str | None = Field(None, description="Where spans go: console, or none.")
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
    rate_limit_journey_start: str = Field("20/hour", description="Journeys started, per client.")
    rate_limit_step_writes: str = Field(
        "60/minute;600/hour", description="Steps, drafts and sends, per client."
    )
    rate_limit_uploads: str = Field("20/minute;100/hour", description="Uploads, per client.")
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

    # The brand theme; colours are checked for contrast when the app starts.
    organisation: str = "Wayline Insurance"
    logo: Path | None = Field(None, description="An SVG or PNG logo file, served as /brand/logo.")
    colour_brand: str = "#1d70b8"
    colour_text: str = "#0b0c0c"
    colour_background: str = "#ffffff"
    colour_focus: str = "#ffdd00"
    colour_error: str = "#d4351c"
    colour_success: str = "#00703c"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'wayline.db').resolve()}"

    def cookies_secure(self) -> bool:
        """Secure cookies unless told otherwise, except in demo mode (plain HTTP on loopback)."""
        return self.secure_cookies if self.secure_cookies is not None else not self.demo

    def resolved_storage_url(self) -> str:
        return self.storage_url or (self.home / "files").resolve().as_uri()
