"""Wiring: settings in, a ready application out. The one place that picks adapters by URL and
injects dependencies: the store, the catalogue of definitions, the partners' data sources,
the clock, then the commands, queries and system work built on them, and the worker's
handlers. Entry points (web/app.py, the CLI) take what they need from `Components`.

Production code never imports the demo: the data sources come from connectors.yaml, or are
given by the edge that runs the demo (the CLI, the tests). With neither, `build` refuses to
start (NoPartners).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from wayline.config import PACKAGED_JOURNEYS, Settings
from wayline.connectors.config import load_partner_configs
from wayline.connectors.partners import Partners, PartnerSources
from wayline.connectors.sources import DataSource
from wayline.documents.scanner import NoScanner, Scanner, scanner_from_url
from wayline.documents.storage import Storage, storage_from_url
from wayline.journeys.loader import Journey, load_directory
from wayline.runtime import effects, superseded
from wayline.runtime.catalog import Catalog
from wayline.runtime.clock import Clock, SystemClock
from wayline.runtime.commands import Commands, DocumentCommands, SystemCommands
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.partner_data import PartnerData
from wayline.runtime.queries import Queries
from wayline.runtime.unit_of_work import UnitOfWork
from wayline.runtime.worker import Worker
from wayline.store import Store, definitions
from wayline.store.database import make_engine
from wayline.store.migrate import is_migrated, upgrade

log = structlog.get_logger("wayline.bootstrap")


class NotMigrated(RuntimeError):
    """The database has no Wayline tables yet."""


class NoPartners(RuntimeError):
    """No partner connectors are configured, and no data sources were given."""


@dataclass(frozen=True)
class DemoCustomer:
    """Someone the demo sign-in offers (the sandbox's dataset, wired in by the CLI)."""

    id: str
    name: str


@dataclass
class Components:
    settings: Settings
    store: Store
    storage: Storage
    catalog: Catalog
    clock: Clock
    commands: Commands
    documents: DocumentCommands
    system: SystemCommands
    queries: Queries
    partners: Partners | None = None
    scanner: Scanner = field(default_factory=NoScanner)
    # Demo mode's sign-in choices, by id; empty outside demo mode.
    demo_customers: dict[str, DemoCustomer] = field(default_factory=dict)

    def worker(self, max_attempts: int | None = None, base_delay: float = 1.0) -> Worker:
        """A worker with a handler for each kind of effect (without partners, only the
        removal of superseded files)."""
        attempts = max_attempts or self.settings.effect_max_attempts
        # Removing files no answer names needs no partner: it runs everywhere.
        handlers = superseded.handlers(self.documents.remove_superseded, self.storage)
        if self.partners is not None:
            handlers |= effects.EffectHandlers(
                self.system,
                self.partners,
                public_url=self.settings.public_url,
                operations_email=self.settings.operations_email,
            ).handlers()
        return Worker(
            self.store,
            self.clock,
            handlers,
            max_attempts=attempts,
            base_delay=base_delay,
            concurrency=self.settings.worker_concurrency,
            lease=self.settings.effect_lease_seconds,
            max_age=self.settings.effect_max_age,
        )


def build(
    settings: Settings,
    *,
    migrate: bool = False,
    clock: Clock | None = None,
    sources: dict[str, DataSource] | None = None,
    partner_urls: dict[str, str] | None = None,
    demo_customers: dict[str, DemoCustomer] | None = None,
) -> Components:
    """Load definitions (refusing to start on any error), open the store, register versions,
    and connect the partners: those of `connectors.yaml` (WAYLINE_CONNECTORS, or at
    `partner_urls`), else the `sources` given. With neither it refuses to start (NoPartners):
    there is no silent fallback to demo data. The demo's sources and sign-in choices come from
    the edge that runs the demo (the CLI, the tests)."""
    # A definition whose effects no handler runs is refused, as `journeys validate` does.
    journeys = load_directory(settings.journeys_dir, effect_kinds=effects.KINDS)
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url())
    if migrate:
        upgrade(engine)
    elif not is_migrated(engine):
        raise NotMigrated("The database has no Wayline tables: run `wayline migrate` first")
    partners = None
    if settings.connectors or partner_urls:
        path = settings.connectors or PACKAGED_JOURNEYS.parent / "connectors.yaml"
        partners = Partners(load_partner_configs(path, partner_urls))
        sources = sources or PartnerSources(partners).as_sources()
    if sources is None:
        engine.dispose()
        raise NoPartners(
            "No partner connectors are configured: set WAYLINE_CONNECTORS to a connectors.yaml "
            "(or run `wayline demo`, which starts the partner simulators)"
        )
    store = Store(engine)
    clock = clock or SystemClock()
    register_definitions(store, journeys, clock)
    catalog = Catalog(journeys)
    deps = Dependencies(
        UnitOfWork(store, catalog),
        PartnerData(sources),
        catalog,
        clock,
        file_replacements=settings.file_replacements,
    )
    storage = storage_from_url(
        settings.resolved_storage_url(),
        s3_endpoint_url=settings.s3_endpoint_url,
        s3_kms_key_id=settings.s3_kms_key_id,
    )
    scanner = scanner_from_url(settings.scanner_url)
    if isinstance(scanner, NoScanner):
        log.warning(
            "scanner.none",
            message="Running without a malware scanner: uploads are not scanned "
            "(set WAYLINE_SCANNER_URL=clamd://host:3310 to scan them)",
        )
    return Components(
        settings,
        store,
        storage,
        catalog,
        clock,
        commands=Commands(deps),
        documents=DocumentCommands(deps),
        system=SystemCommands(deps),
        queries=Queries(deps),
        partners=partners,
        scanner=scanner,
        demo_customers=dict(demo_customers or {}),
    )


def register_definitions(store: Store, journeys: dict[str, Journey], clock: Clock) -> None:
    with store.write() as connection:
        for journey in journeys.values():
            definitions.save(connection, journey, clock.now())


def demo_secret(home: Path) -> str:
    """A per-installation secret for the demo, kept in the data folder (never in the repo)."""
    path = home / "secret_key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()
