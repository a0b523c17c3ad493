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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import structlog

from wayline.config import PACKAGED_JOURNEYS, Settings
from wayline.connectors.config import load_partner_configs
from wayline.connectors.operation_sources import operation_sources
from wayline.connectors.operations import Operations
from wayline.connectors.partners import Partners, PartnerSources
from wayline.connectors.sources import DataSource
from wayline.documents.scanner import NoScanner, Scanner, scanner_from_url
from wayline.documents.storage import Storage, storage_from_url
from wayline.identity.permissions import TABLE, Permission
from wayline.identity.roles import STAFF_ROLES, Role
from wayline.insights.experiments import ExperimentQuestion, ExperimentsOf
from wayline.insights.ingest import Feed, FromDatabase
from wayline.insights.service import Insights
from wayline.journeys import personalise, step_up
from wayline.journeys.loader import Journey, load_directory
from wayline.models.facts import facts as model_facts
from wayline.protection.codec import Classifier, FieldCodec
from wayline.protection.files import SealedStorage
from wayline.protection.keys import DataKeys
from wayline.protection.wiring import data_keys, private_files
from wayline.runtime import effects, ownership, superseded
from wayline.runtime.cases import Access, Cases, open_case
from wayline.runtime.catalog import Catalog
from wayline.runtime.clock import Clock, SystemClock
from wayline.runtime.commands import Commands, DocumentCommands, SystemCommands
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.lifecycle import Lifecycle
from wayline.runtime.model_scores import ModelScorer
from wayline.runtime.partner_data import PartnerData
from wayline.runtime.queries import Queries
from wayline.runtime.queue_watch import QueueWatch
from wayline.runtime.releases.assignment import Assignment
from wayline.runtime.releases.service import Releases
from wayline.runtime.reload import DefinitionReloader
from wayline.runtime.unit_of_work import UnitOfWork
from wayline.runtime.worker import Worker
from wayline.store import Connection, Store, definitions
from wayline.store.database import make_engine
from wayline.store.event_feed import EventFeed
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
    # What they show in each journey, by journey type: the sign-in page explains it.
    situations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DemoStaff:
    """A member of staff the demo sign-in offers, with the roles they sign in with."""

    id: str
    name: str
    roles: frozenset[Role]


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
    cases: Cases  # the workbench (runtime/cases)
    partners: Partners | None = None
    scanner: Scanner = field(default_factory=NoScanner)
    operations: Operations = field(default_factory=lambda: Operations({}))
    # The decisions' models, each version loaded on first use (runtime/model_scores.py).
    scorer: ModelScorer | None = None
    # Demo mode's sign-in choices, by id; empty outside demo mode.
    demo_customers: dict[str, DemoCustomer] = field(default_factory=dict)
    demo_staff: dict[str, DemoStaff] = field(default_factory=dict)

    def reloader(self) -> DefinitionReloader:
        """Hot reload of the definitions folder into this catalogue, checked as at start-up."""
        return DefinitionReloader(
            self.settings.journeys_dir,
            self.catalog,
            self.store,
            self.clock,
            effect_kinds=effects.KINDS,
            roles={role.value for role in STAFF_ROLES},
            models=lambda: model_facts(self.settings.resolved_models_dir()),
        )

    @property
    def data_keys(self) -> DataKeys | None:
        """The codec's data keys (None when values are stored in clear)."""
        codec = self.store.codec
        return codec.keys if isinstance(codec, FieldCodec) else None

    def lifecycle(self) -> Lifecycle:
        """Retention, legal holds and erasure over these parts (docs/data-protection.md), with
        the codec's own data keys, so an erasure also empties their cache."""
        return Lifecycle(self.store, self.storage, self.clock, self.data_keys)

    def releases(self) -> Releases:
        """Releases of definition versions: started, analysed and decided (docs/releases.md)."""
        return Releases(self.store, self.clock)

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
                operations=self.operations,
                scorer=self.scorer,
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
            watch=QueueWatch(
                self.store, self.clock, timedelta(seconds=self.settings.deadline_risk_seconds)
            ),
        )


def build(
    settings: Settings,
    *,
    migrate: bool = False,
    clock: Clock | None = None,
    sources: dict[str, DataSource] | None = None,
    partner_urls: dict[str, str] | None = None,
    demo_customers: dict[str, DemoCustomer] | None = None,
    demo_staff: dict[str, DemoStaff] | None = None,
) -> Components:
    """Load definitions (refusing to start on any error), open the store, register versions,
    and connect the partners: those of `connectors.yaml` (WAYLINE_CONNECTORS, or at
    `partner_urls`), else the `sources` given. With neither it refuses to start (NoPartners):
    there is no silent fallback to demo data. The demo's sources and sign-in choices come from
    the edge that runs the demo (the CLI, the tests)."""
    # A definition whose effects no handler runs is refused, as `journeys validate` does.
    # So are review queues naming roles the identity layer does not know.
    # So are partner calls of operations partners/*.yaml does not declare, or declares
    # with another request.
    roles = {role.value for role in STAFF_ROLES}
    operations = Operations.from_directory(settings.resolved_partners_dir())
    journeys = load_directory(
        settings.journeys_dir,
        effect_kinds=effects.KINDS,
        roles=roles,
        operations=operations.signatures(),
        models=model_facts(settings.resolved_models_dir()),
    )
    settings.home.mkdir(parents=True, exist_ok=True)
    private_files(settings.home)
    engine = make_engine(settings.resolved_database_url())
    if migrate:
        upgrade(engine)
    elif not is_migrated(engine):
        raise NotMigrated("The database has no Wayline tables: run `wayline migrate` first")
    partners = None
    if settings.connectors or partner_urls:
        path = settings.connectors or PACKAGED_JOURNEYS.parent / "connectors.yaml"
        partners = Partners(load_partner_configs(path, partner_urls))
        # The partners' declared reads are sources too (`card_issuer_list_cards`).
        sources = sources or {
            **operation_sources(operations, partners.clients),
            **PartnerSources(partners).as_sources(),
        }
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
    # Classified values are sealed at the store's boundary, and stored files at rest
    # (docs/data-protection.md).
    keys = data_keys(settings)
    if keys is not None:
        store.codec = FieldCodec(keys, classifier(catalog))
    deps = Dependencies(
        # Ownership passes last: a case the same change opened passes with the journey.
        UnitOfWork(store, catalog, after_write=(open_case, ownership.after_write)),
        PartnerData(sources),
        catalog,
        clock,
        file_replacements=settings.file_replacements,
        versions=Assignment(store, catalog),
    )
    storage = storage_from_url(
        settings.resolved_storage_url(),
        s3_endpoint_url=settings.s3_endpoint_url,
        s3_kms_key_id=settings.s3_kms_key_id,
    )
    if keys is not None:
        storage = SealedStorage(storage, keys, store)
    scanner = scanner_from_url(settings.scanner_url)
    if isinstance(scanner, NoScanner):
        log.warning(
            "scanner.none",
            message="Running without a malware scanner: uploads are not scanned "
            "(set WAYLINE_SCANNER_URL=clamd://host:3310 to scan them)",
        )
    system = SystemCommands(deps)
    if partners is not None:
        # A step's before_continuing calls run in the request, by the worker's own handler.
        deps.immediate.bind(
            effects.EffectHandlers(
                system,
                partners,
                public_url=settings.public_url,
                operations_email=settings.operations_email,
                operations=operations,
            ).call
        )
    return Components(
        settings,
        store,
        storage,
        catalog,
        clock,
        commands=Commands(deps),
        documents=DocumentCommands(deps),
        system=system,
        queries=Queries(deps),
        cases=Cases(deps, case_access()),
        partners=partners,
        scanner=scanner,
        operations=operations,
        scorer=ModelScorer(settings.resolved_models_dir()),
        demo_customers=dict(demo_customers or {}),
        demo_staff=dict(demo_staff or {}),
    )


def classifier(catalog: Catalog) -> Classifier:
    """Each field's classification, by the definition version a journey started on."""

    known: dict[tuple[str, str], dict[str, str]] = {}

    def of(connection: Connection, name: str, version: str) -> Callable[[str], str]:
        # Worked out once per version (a version never changes): sealing runs every write.
        classes = known.get((name, version))
        if classes is None:
            journey = catalog.version(connection, name, version)
            names = [*journey.fields, *journey.groups]
            classes = {field: journey.classification_of(field).value for field in names}
            known[(name, version)] = classes
        return classes.__getitem__

    return of


def case_access() -> Access:
    """The workbench's access, from the permission table (the runtime cannot import it)."""
    over = TABLE[Permission.APPROVE_OVER_LIMIT]
    if over.step_up is None:
        raise RuntimeError("approving over the limit must ask for a step-up")
    return Access(
        case_workers=_names(TABLE[Permission.WORK_CASES].roles),
        fraud_evidence=_names(TABLE[Permission.SEE_FRAUD_EVIDENCE].roles),
        approvers=_names(over.roles),
        approve_step_up=step_up.Rule(over.step_up.level, over.step_up.within),
    )


def _names(roles: frozenset[Role]) -> frozenset[str]:
    return frozenset(role.value for role in roles)


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


def insights(
    settings: Settings, store: Store, journeys: Callable[[], Iterable[Journey]], clock: Clock
) -> Insights:
    """Insights in the DuckDB file of WAYLINE_INSIGHTS_PATH, fed from the database's events
    table or from the bus (WAYLINE_INSIGHTS_SOURCE), each journey type's terms from `journeys`
    (the deployed ones)."""
    return Insights(
        settings.resolved_insights_path(),
        insights_feed(settings, store),
        journeys,
        timedelta(days=settings.insights_abandon_after_days),
        clock.now,
        experiments_of=experiment_questions(journeys),
    )


def experiment_questions(journeys: Callable[[], Iterable[Journey]]) -> ExperimentsOf:
    """Each deployed journey type's experiments as the insight pages ask about them: the
    declared metric, the arms in order (the first is the baseline), the minimum sample."""

    def of(name: str) -> list[ExperimentQuestion]:
        journey = next((j for j in journeys() if j.name == name), None)
        if journey is None:
            return []
        return [
            ExperimentQuestion(
                e.name,
                e.title,
                e.metric,
                e.step,
                tuple(arm.name for arm in e.arms),
                e.minimum_sample,
            )
            for e in personalise.experiments(journey)
        ]

    return of


def insights_feed(settings: Settings, store: Store) -> Feed:
    """The events table, or the JetStream stream the relay publishes to (the settings refuse
    `bus` with any other bus)."""
    if settings.insights_source == "database":
        return FromDatabase(EventFeed(store))
    from wayline.events.insights_feed import JetStreamFeed

    return JetStreamFeed(
        settings.event_bus,
        stream=settings.event_stream,
        prefix=settings.event_subject_prefix,
        durable=settings.insights_consumer,
        timeout=settings.event_publish_timeout_seconds,
    )


def build_lifecycle(settings: Settings, clock: Clock | None = None) -> Lifecycle:
    """Only the parts retention, holds, export and erasure need (no partners, no web): the
    store with its sealing codec, the sealed storage and the data keys. For the CLI, on a
    migrated database (NotMigrated otherwise)."""
    catalog = Catalog(
        load_directory(
            settings.journeys_dir,
            effect_kinds=effects.KINDS,
            roles={role.value for role in STAFF_ROLES},
            operations=Operations.from_directory(settings.resolved_partners_dir()).signatures(),
            models=model_facts(settings.resolved_models_dir()),
        )
    )
    engine = make_engine(settings.resolved_database_url())
    if not is_migrated(engine):
        engine.dispose()
        raise NotMigrated("The database has no Wayline tables: run `wayline migrate` first")
    store = Store(engine)
    keys = data_keys(settings)
    storage = storage_from_url(
        settings.resolved_storage_url(),
        s3_endpoint_url=settings.s3_endpoint_url,
        s3_kms_key_id=settings.s3_kms_key_id,
    )
    if keys is not None:
        store.codec = FieldCodec(keys, classifier(catalog))
        storage = SealedStorage(storage, keys, store)
    return Lifecycle(store, storage, clock or SystemClock(), keys)
