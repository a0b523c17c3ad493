"""The store's tables (SQLAlchemy Core). Migrations in store/migrations create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
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

# The events' outbox (docs/events.md): one row per event, written in the event's transaction;
# the relay leases it, publishes the event as a CloudEvent, then stamps published_at. A table of
# its own so the events table stays append-only and unchanged for those who read it directly.
event_outbox = Table(
    "event_outbox",
    metadata,
    Column("event_id", Serial, primary_key=True, autoincrement=False),
    Column("journey_id", String(32), nullable=False),
    Column("traceparent", String(55)),
    Column("leased_by", String(40)),
    Column("leased_until", Stamp),
    Column("published_at", Stamp),
    Index("ix_event_outbox_pending", "published_at", "event_id"),
    Index("ix_event_outbox_journey", "journey_id", "event_id"),
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
    Column("filename", Text, nullable=False),  # sealed (store/codec.py): longer than its text
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
    # Who the session speaks for (identity/principal.py): roles are space-separated names.
    Column("kind", String(20), nullable=False, server_default="customer"),
    Column("roles", String(200), nullable=False, server_default="customer"),
    Column("assurance", Integer, nullable=False, server_default="1"),
    Column("authenticated_at", Stamp),  # the provider's auth_time
    Column("issuer", String(300), nullable=False, server_default="demo"),
    Index("ix_sessions_subject", "subject"),
    Index("ix_sessions_expires", "expires_at"),
)

# Visitors: journeys started without signing in (identity/visitors.py, runtime/ownership.py).
# Codes are keyed hashes and the email's lookup key a blind index (protection/blind_index.py);
# no code or link is ever stored as sent.
email_codes = Table(
    "email_codes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("journey_id", String(32), nullable=False),
    Column("email_hash", String(80), nullable=False),  # a blind index: <key version>.<hex>
    Column("code_hash", String(64), nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("expires_at", Stamp, nullable=False),
    Column("used_at", Stamp),
    Index("ix_email_codes_journey", "journey_id", "created_at"),
)

# Wrong codes by scope (`journey:<id>` or `email:<hash>`): a lock outlives any code.
verification_locks = Table(
    "verification_locks",
    metadata,
    Column("scope", String(100), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", Stamp),
    Column("updated_at", Stamp, nullable=False),
)

# The verified email a visitor's journey belongs to: where its resume links go.
journey_emails = Table(
    "journey_emails",
    metadata,
    Column("journey_id", String(32), primary_key=True),
    Column("email", Text, nullable=False),  # sealed (store/codec.py): longer than its text
    Column("email_hash", String(80), nullable=False),  # its blind index, recomputed on rotation
    Column("verified_at", Stamp, nullable=False),
    Index("ix_journey_emails_email_hash", "email_hash"),
)

resume_links = Table(
    "resume_links",
    metadata,
    Column("id", String(64), primary_key=True),  # the SHA-256 of the link's random part
    Column("journey_id", String(32), nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("expires_at", Stamp, nullable=False),
    Column("used_at", Stamp),
    Index("ix_resume_links_journey", "journey_id"),
)

# Who may still read a journey's status page after it passed to another owner.
journey_viewers = Table(
    "journey_viewers",
    metadata,
    Column("journey_id", String(32), primary_key=True),
    Column("subject", String(100), primary_key=True),
    Column("granted_at", Stamp, nullable=False),
)

# Authorization requests sent to an identity provider, until its callback comes back
# (identity/oidc.py). Keyed by the SHA-256 of `state`; bound to the browser that started it by
# the SHA-256 of a cookie it alone holds. One use: the callback deletes the row.
sign_in_requests = Table(
    "sign_in_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("browser", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("nonce", String(100), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("return_to", String(2000), nullable=False),
    Column("step_up_level", Integer),
    Column("created_at", Stamp, nullable=False),
    Column("expires_at", Stamp, nullable=False),
    Index("ix_sign_in_requests_expires", "expires_at"),
)

# The append-only audit log (identity/audit.py): who did what, when, from where, to what, and
# with what outcome; never a token or a customer's answer. The migration adds triggers that
# refuse UPDATE and DELETE.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("at", Stamp, nullable=False),
    Column("actor", String(100)),
    Column("actor_kind", String(20)),
    Column("action", String(60), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("ip", String(64)),
    Column("user_agent", String(300)),
    Column("target_type", String(40)),
    Column("target_id", String(100)),
    Column("details", JSON, nullable=False),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor", "actor", "at"),
    Index("ix_audit_log_target", "target_type", "target_id", "at"),
)

# The workbench (runtime/cases, store/cases.py). A case is a referred (or rule-picked) journey
# being worked by staff. `open_journey` holds the journey's id while the case is open and NULL
# once it is closed: its unique constraint allows at most one open case per journey.
cases = Table(
    "cases",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("journey_id", String(32), nullable=False),
    Column("journey", String(100), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("reference", String(20)),
    Column("open_journey", String(32)),
    Column("queue", String(50), nullable=False),
    Column("status", String(30), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("assignee", String(100)),
    Column("rule", String(40), nullable=False),  # referral, or open_when:N
    Column("reasons", JSON, nullable=False),  # for staff only
    Column("proposal", JSON),  # a four-eyes approval waiting for its second person
    Column("decision", JSON),  # the handler's decision: verdict, outcome, code, by
    Column("opened_at", Stamp, nullable=False),
    Column("due_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    Column("closed_at", Stamp),
    UniqueConstraint("open_journey", name="uq_cases_open_journey"),
    Index("ix_cases_queue", "queue", "status", "due_at"),
    Index("ix_cases_assignee", "assignee", "status"),
    Index("ix_cases_journey", "journey_id", "opened_at"),
)

case_notes = Table(
    "case_notes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("case_id", String(32), nullable=False),
    Column("at", Stamp, nullable=False),
    Column("author", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_case_notes_case", "case_id", "at"),
)

# What a handler asked the customer for: a question (answered in words) or an upload (files).
case_tasks = Table(
    "case_tasks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("case_id", String(32), nullable=False),
    Column("journey_id", String(32), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("accept", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # open, answered
    Column("requested_by", String(100), nullable=False),
    Column("requested_at", Stamp, nullable=False),
    Column("answered_at", Stamp),
    Column("answer", Text),
    Column("documents", JSON),
    Index("ix_case_tasks_journey", "journey_id", "status"),
    Index("ix_case_tasks_case", "case_id", "requested_at"),
)

# A member of staff's saved filters over the queues they may see.
case_views = Table(
    "case_views",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("name", String(100), nullable=False),
    Column("filters", JSON, nullable=False),
    Column("created_at", Stamp, nullable=False),
    UniqueConstraint("owner", "name", name="uq_case_views_owner_name"),
)

# Releases (migration 0012): canary releases of definition versions, and their log.
releases = Table(
    "releases",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("journey", String(100), nullable=False),
    Column("stable_version", String(64), nullable=False),
    Column("canary_version", String(64), nullable=False),
    Column("strategy", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("stage", Integer, nullable=False),
    Column("percent", Integer, nullable=False),
    Column("stage_started_at", Stamp, nullable=False),
    Column("started_at", Stamp, nullable=False),
    Column("started_by", String(100), nullable=False),
    Column("ended_at", Stamp),
    Column("failing_intervals", Integer, nullable=False),
    Column("last_analysed_at", Stamp),
    Column("revision", Integer, nullable=False),
    # The journey's name while the release is open: one open release a journey.
    Column("open_journey", String(100), unique=True),
    Index("ix_releases_journey", "journey", "started_at"),
)

release_log = Table(
    "release_log",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("release_id", String(32), nullable=False),
    Column("journey", String(100), nullable=False),
    Column("at", Stamp, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("body", JSON, nullable=False),
    Index("ix_release_log_release", "release_id", "id"),
    Index("ix_release_log_journey", "journey", "at"),
)

# Data protection (protection/keys.py, store/data_keys.py): each data subject's data keys and
# the blind indexes' keys, wrapped by a key-encryption key whose version each row names.
data_keys = Table(
    "data_keys",
    metadata,
    Column("subject", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("kek_version", String(300), nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("rewrapped_at", Stamp),
    Index("ix_data_keys_kek", "kek_version", "subject"),
)

index_keys = Table(
    "index_keys",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("kek_version", String(300), nullable=False),
    Column("created_at", Stamp, nullable=False),
)

# Retention and erasure (migration 0013, runtime/lifecycle.py): legal holds that keep a journey or
# a customer's data whatever its retention says, and the record of what was removed (kinds and
# counts of rows, never the data).
legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("scope", String(20), nullable=False),  # customer or journey
    Column("target", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("placed_by", String(100), nullable=False),
    Column("placed_at", Stamp, nullable=False),
    Column("released_at", Stamp),
    Column("released_by", String(100)),
    Index("ix_legal_holds_target", "scope", "target", "released_at"),
)

retention_log = Table(
    "retention_log",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("at", Stamp, nullable=False),
    Column("action", String(20), nullable=False),  # retention, erasure
    Column("journey_id", String(32)),
    Column("journey", String(100)),
    Column("subject", String(100)),  # the customer an erasure was for (an id, nothing more)
    Column("rule", String(100), nullable=False),  # e.g. drafts P30D, outcomes.declined P5Y
    Column("removed", JSON, nullable=False),  # {table or "files" or "data_keys": count}
    Index("ix_retention_log_at", "at"),
)

benchmark_writes = Table(
    "benchmark_writes",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("at", Stamp, nullable=False),
    Column("body", JSON, nullable=False),
)
