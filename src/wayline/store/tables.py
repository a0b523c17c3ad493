"""The store's tables (SQLAlchemy Core). Migrations in store/migrations create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()
Stamp = DateTime(timezone=True)
# An auto-incrementing BIGINT on PostgreSQL that SQLite still treats as its rowid.
Serial = BigInteger().with_variant(Integer(), "sqlite")

journey_definitions = Table(
    "journey_definitions",
    metadata,
    Column("journey", String(100), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("document", JSON, nullable=False),
    Column("created_at", Stamp, nullable=False),
)

journeys = Table(
    "journeys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("journey", String(100), nullable=False),
    Column("version", String(64), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("current_step", String(100)),
    Column("reference", String(20), unique=True),
    Column("state", JSON, nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    Column("submitted_at", Stamp),
    Index("ix_journeys_customer", "customer_id", "created_at"),
    Index("ix_journeys_status", "status", "updated_at"),
)

answers = Table(
    "answers",
    metadata,
    Column("journey_id", String(32), primary_key=True),
    Column("field", String(100), primary_key=True),
    Column("step", String(100), nullable=False),
    Column("classification", String(20), nullable=False),
    Column("value", JSON),
    Column("source", String(100)),
    Column("updated_at", Stamp, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("journey_id", String(32), nullable=False),
    Column("type", String(50), nullable=False),
    Column("at", Stamp, nullable=False),
    Column("body", JSON, nullable=False),
    Index("ix_events_journey", "journey_id", "id"),
)

effects = Table(
    "effects",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("journey_id", String(32), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("key", String(300), nullable=False),
    Column("params", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("available_at", Stamp, nullable=False),
    Column("locked_until", Stamp),
    Column("started_at", Stamp),
    Column("last_error", Text),
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    UniqueConstraint("key", name="uq_effects_key"),
    Index("ix_effects_due", "status", "available_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("customer_id", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    # What the first request produced: a replay answers with that journey's view as it is now
    # (no body is kept: it would hold the customer's answers).
    Column("journey_id", String(32)),
    Column("revision", Integer),
    Column("created_at", Stamp, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("journey_id", String(32), nullable=False),
    Column("field", String(100), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(300), nullable=False),
    Column("created_at", Stamp, nullable=False),
    # accepted, rejected (with the reason) or held (the scanner could not look at it yet)
    Column("status", String(20), nullable=False, server_default="accepted"),
    Column("reason", Text),
    Column("display_key", String(300)),  # a re-encoded copy without metadata, for showing
    Column("display_content_type", String(100)),
    Column("evidence", JSON),  # capture time, camera, software, GPS, dimensions, hashes...
    Column("signals", JSON),  # photo fraud signals with their evidence in words
    Index("ix_documents_journey", "journey_id"),
)

# The photo reuse index (store/photo_index.py): each photo's 64-bit perceptual hash, stored
# as a signed BIGINT, and its four 16-bit chunks, each indexed with the hash, so that a query by
# chunk and distance is answered from the index alone (multi-index hashing); the c0 index also
# finds a hash's rows.
photo_hashes = Table(
    "photo_hashes",
    metadata,
    Column("document_id", String(32), primary_key=True),
    Column("journey_id", String(32), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("phash", BigInteger, nullable=False),
    Column("c0", Integer, nullable=False),  # bits 63..48
    Column("c1", Integer, nullable=False),  # bits 47..32
    Column("c2", Integer, nullable=False),  # bits 31..16
    Column("c3", Integer, nullable=False),  # bits 15..0
    Index("ix_photo_hashes_c0", "c0", "phash"),
    Index("ix_photo_hashes_c1", "c1", "phash"),
    Index("ix_photo_hashes_c2", "c2", "phash"),
    Index("ix_photo_hashes_c3", "c3", "phash"),
)

# Server-side sessions (identity/sessions.py). The id is the SHA-256 of the cookie's random
# value, never the value itself: reading this table does not yield a cookie that works.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("subject", String(100), nullable=False),  # the customer id; nothing else about them
    Column("created_at", Stamp, nullable=False),
    Column("last_seen_at", Stamp, nullable=False),
    Column("expires_at", Stamp, nullable=False),  # the absolute deadline, set at sign-in
    Column("revoked_at", Stamp),
    Index("ix_sessions_subject", "subject"),
    Index("ix_sessions_expires", "expires_at"),
)

benchmark_writes = Table(
    "benchmark_writes",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("at", Stamp, nullable=False),
    Column("body", JSON, nullable=False),
)
