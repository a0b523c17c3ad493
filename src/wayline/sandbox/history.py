"""History for the demo's insights (`wayline demo --seed-history N`): N motor claims driven
through the real commands, in process, on a moved clock that spreads them over the eight weeks
before now, so that /insights has something to show on a first run.

Each claim is one of a fixed mix, drawn with a seeded random generator (the same N gives the
same history): left on a step (the policy, what happened, the police report, the photos),
withdrawn, or sent; sent claims are approved (and paid, some after the payment's deadline),
not covered (a lapsed policy) or referred (a theft, a fraud marker). Some answers are refused
first (a description too short, a postcode or crime reference mistyped) and corrected. The
older half runs on an earlier version of the claim, whose description had to be 40 characters
or more, so the two versions can be compared.

Every claim is in the `photo-guidance` experiment, about half in `control` and half in
`examples`. With examples of good photos most of those who would have left at the photos go on
and are approved: the arm completes a little more often and drops off at the photos less. The
arm is the engine's when the claim's definition declares the experiment (the motor claim does:
a hash of the journey's id, which is random, so which claims are in which arm differs from run
to run while the mix of what happens stays the seeded one); otherwise it is drawn from a seeded
generator of its own and recorded at the start as the engine records it
(`experiment.assigned`).

History customers are `history-<profile>-<n>`: they borrow a demo customer's data (Alex's
policy, Sam's lapsed one, Jordan's fraud marker) but are nobody's sign-in, so no demo
customer's list fills up. The effects their claims queued are settled without running: they
belong to weeks gone by and must not reach a partner now. Payments and deadline breaches are
recorded as the worker would record them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.connectors.sources import DataSource
from wayline.ids import new_id
from wayline.journeys import follow_up
from wayline.journeys.engine import DataNeed, Event, JourneyState, Refused, Transition
from wayline.journeys.loader import Journey, journey_from_document
from wayline.runtime import photos
from wayline.sandbox.demo_cases import JOURNEY, Seeding, photo
from wayline.sandbox.sources import demo_sources
from wayline.store import definitions, outbox
from wayline.store import documents as document_rows
from wayline.store import events as stored_events

WEEKS = 8
PREFIX = "history-"
PROFILES = {"alex": "MTR-100001", "sam": "MTR-100003", "jordan": "MTR-100004"}
# What happens to each claim, and how often (out of 100).
MIX = (
    ("left_at_policy", 10),
    ("left_at_incident", 10),
    ("left_at_police", 6),
    ("left_at_photos", 6),
    ("withdrawn", 4),
    ("approved", 30),
    ("not_covered", 14),
    ("theft_referred", 12),
    ("fraud_referred", 8),
)
SHORT = "Hit a bollard reversing."  # 24 characters: too short for either version
MIDDLE = "Reversing out of a space, I hit a post."  # 39: too short for the earlier version
LONG = "Reversing out of a parking space at the shops, I hit a low bollard."
SETTLED = "history: settled without running (seeded by wayline demo --seed-history)"
EXPERIMENT = "photo-guidance"
ARMS = {"control": None, "examples": "photo-examples"}  # arm: its content variant
ASSIGNED = "experiment.assigned"
GUIDED = 0.8  # of the claims that would be left at the photos, those examples carry on


class MovedClock:
    """A clock the seeding sets and moves."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class Borrowed:
    """A demo data source answering for a history customer as for the profile it borrows."""

    def __init__(self, source: DataSource):
        self.source = source

    def fetch(self, customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
        return self.source.fetch(profile_of(customer_id), params, today)


class Files:
    """History's uploads: each picture goes through the document checks and into storage
    once (the first claim that needs it); every later claim records its own document of the
    same stored file. The checks cost far more than a claim's commands."""

    def __init__(self) -> None:
        self.kept: dict[str, dict[str, Any]] = {}

    def attach(self, claim: Seeding, field: str) -> str:
        """A new document of `field`'s picture on `claim`; its id."""
        if field not in self.kept:
            first = claim.upload(
                field, photo(seed=len(self.kept) + 5, size=(160, 120)), "photo.jpg"
            )
            with claim.components.store.read() as connection:
                found = document_rows.record(connection, claim.journey_id, first) or {}
            # Without its perceptual hash: the copies would all match each other in the photo
            # reuse index, which is for real uploads.
            evidence = {k: v for k, v in (found.get("evidence") or {}).items() if k != "phash"}
            self.kept[field] = {**found, "field": field, "evidence": evidence}
            return first
        record = {**self.kept[field], "id": new_id()}
        claim.components.documents.record(claim.customer, claim.journey_id, record)
        return str(record["id"])


def profile_of(customer_id: str) -> str:
    """`history-alex-12` borrows alex's data; anyone else is themselves."""
    if customer_id.startswith(PREFIX):
        return customer_id[len(PREFIX) :].split("-", 1)[0]
    return customer_id


def earlier_version(journey: Journey) -> Journey:
    """The claim as it was before: the description had to be 40 characters or more."""
    document = journey.to_document()
    for step in document["steps"]:
        for spec in step.get("fields", []):
            if spec.get("name") == "description":
                for rule in spec.get("rules", []):
                    if rule.get("rule") == "min_length":
                        rule["value"] = 40
                        rule["message"] = "What happened must be 40 characters or more"
    return journey_from_document(document, journey.version[:6] + "earlier")


def seed_history(
    settings: Settings, count: int, advance: Callable[[int], None] | None = None
) -> list[str]:
    """Make `count` history claims (on a migrated database); the journeys' ids. None when the
    database has history already (its earlier version is stored). `advance` is told of each
    claim made (a progress bar)."""
    now = datetime.now(UTC).replace(microsecond=0)
    clock = MovedClock(now - timedelta(weeks=WEEKS))
    sources: dict[str, DataSource] = {n: Borrowed(s) for n, s in demo_sources().items()}
    components = build(settings, clock=clock, sources=sources)
    current = components.catalog.get(JOURNEY)
    assert current is not None, JOURNEY
    earlier = earlier_version(current)
    with components.store.write() as connection:
        if definitions.load(connection, earlier.name, earlier.version) is not None:
            components.store.engine.dispose()
            return []  # seeded before (the demo restarted): once is enough
        definitions.save(connection, earlier, clock.now())
    randomly = random.Random(14)
    assigner = random.Random(15)  # the arms: apart, so the mix is drawn as it always was
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    spacing = timedelta(weeks=WEEKS) / max(count, 1)
    made = []
    files = Files()
    try:
        for i in range(count):
            clock.at = now - timedelta(weeks=WEEKS) + spacing * i
            components.catalog.deploy(earlier if i < count // 2 else current)
            kind = randomly.choice(kinds)
            made.append(_claim(components, clock, randomly, kind, i, files, assigner))
            if advance is not None:
                advance(1)
    finally:
        components.catalog.deploy(current)
        with components.store.write() as connection:
            outbox.settle_unrun(connection, made, SETTLED, now)
        components.store.engine.dispose()
    return made


def _claim(
    components: Components,
    clock: MovedClock,
    randomly: random.Random,
    kind: str,
    number: int,
    files: Files,
    assigner: random.Random,
) -> str:
    profile = {"not_covered": "sam", "fraud_referred": "jordan"}.get(kind, "alex")
    claim = Seeding(components, f"{PREFIX}{profile}-{number}")
    kind = _guided(kind, _assign(claim, assigner), assigner)

    def step(name: str, answers: dict[str, Any], mistake: dict[str, Any] | None = None) -> None:
        """A mistake first (when given), then the answers; a description the version finds
        too short is written out longer."""
        tries = [{**answers, **mistake}] if mistake else []
        tries += [
            answers,
            {**answers, "description": LONG} if "description" in answers else answers,
        ]
        for attempt in tries[:-1]:
            clock.advance(randomly.uniform(20, 240))
            try:
                claim.step(name, attempt)
                return
            except Refused:
                continue
        claim.step(name, tries[-1])

    if kind == "left_at_policy":
        return claim.journey_id
    step("policy", {"policy_number": PROFILES[profile]})
    theft = kind in ("theft_referred", "left_at_police")
    incident = _incident(clock, randomly, theft)
    description = incident["description"]
    if kind == "left_at_incident":
        _refused(claim, clock, randomly, incident)
        return claim.journey_id
    mistake = _mistake(randomly, description)
    step("incident", incident, mistake)
    if theft:
        if kind == "left_at_police":
            _refused(claim, clock, randomly, {"crime_reference": "CR 12"}, "police")
            return claim.journey_id
        step("police", {"crime_reference": "CR/2026/0481"}, {"crime_reference": "12"})
        step("photos", {"damage_photos": []})
    elif kind == "left_at_photos":
        return claim.journey_id
    else:
        clock.advance(randomly.uniform(30, 400))
        claim.step("photos", {"damage_photos": [files.attach(claim, "damage_photos")]})
        _settle(claim, step, randomly, files, cash=profile == "alex")
    if kind == "withdrawn":
        clock.advance(randomly.uniform(60, 600))
        components.commands.withdraw(claim.customer, claim.journey_id, claim.changed.revision)
        return claim.journey_id
    clock.advance(randomly.uniform(30, 300))
    claim.send()
    _decide(components, clock, randomly, claim.journey_id)
    return claim.journey_id


def _assign(claim: Seeding, assigner: random.Random) -> str:
    """The claim's arm of the experiment: the engine's, when it assigned one at the start;
    else one drawn half and half, recorded as the engine records it."""
    with claim.components.store.read() as connection:
        for body in stored_events.of(connection, claim.journey_id):
            data = body.get("data") or {}
            if body.get("type") == ASSIGNED and data.get("experiment") == EXPERIMENT:
                return str(data.get("arm"))
    arm = assigner.choice(sorted(ARMS))
    data = {"experiment": EXPERIMENT, "arm": arm, "variant": ARMS[arm], "by": "journey"}

    def assigned(journey: Journey, state: JourneyState, now: datetime) -> Transition:
        return Transition(state, (Event(ASSIGNED, now, data=data),))

    claim.changed = claim.components.system.apply(claim.journey_id, assigned)
    return arm


def _guided(kind: str, arm: str, assigner: random.Random) -> str:
    """With examples of good photos, most who would have left at the photos send the claim."""
    if arm == "examples" and kind == "left_at_photos" and assigner.random() < GUIDED:
        return "approved"
    return kind


def _incident(clock: MovedClock, randomly: random.Random, theft: bool) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "incident_date": (clock.now().date() - timedelta(days=randomly.randint(1, 6))).isoformat(),
        "incident_type": "theft" if theft else "collision_object",
        "incident_postcode": "SW1A 1AA",
        "description": randomly.choice((MIDDLE, LONG, LONG)),
    }
    if not theft:
        answers["driveable"] = randomly.random() < 0.7
    return answers


def _mistake(randomly: random.Random, description: str) -> dict[str, Any] | None:
    """Some customers mistype first; the earlier version also refuses the middling text."""
    roll = randomly.random()
    if roll < 0.15:
        return {"description": SHORT}
    if roll < 0.25:
        return {"incident_postcode": "SW1A"}
    if roll < 0.30:
        return {"incident_date": "2026-02-31"}
    return None


def _refused(
    claim: Seeding,
    clock: MovedClock,
    randomly: random.Random,
    answers: dict[str, Any],
    name: str = "incident",
) -> None:
    """The customer tries once with a mistake and leaves."""
    clock.advance(randomly.uniform(30, 300))
    wrong = {**answers, "description": SHORT} if name == "incident" else answers
    try:
        claim.step(name, wrong)
    except Refused:
        return


def _settle(
    claim: Seeding, step: Callable[..., None], randomly: random.Random, files: Files, cash: bool
) -> None:
    """Cash into the account held with us (Alex has one); a repairer for the others (a new
    account would ask for a step-up, which history cannot give)."""
    if not cash:
        step("settlement", {"settlement": "repairer", "repairer_id": _repairer(claim)})
        return
    amount = str(randomly.choice((350, 620, 980, 1450, 2200)))
    estimate = files.attach(claim, "estimate_document")
    answers = {"settlement": "cash", "estimate_amount": amount, "estimate_document": [estimate]}
    step("settlement", answers, {"estimate_amount": "lots"} if randomly.random() < 0.2 else None)
    step("payment-details", {"payout_account": claim.field("payout_account")["value"]})


def _repairer(claim: Seeding) -> str:
    """The first repairer offered near the incident (the settlement step's options)."""
    view = claim.components.queries.view_of(claim.changed)
    spec = next(f for f in view["current_step"]["fields"] if f["name"] == "repairer_id")
    return str(spec["options"][0]["value"])


def _decide(
    components: Components, clock: MovedClock, randomly: random.Random, journey_id: str
) -> None:
    """The checks and decision as the worker runs them, a little after sending; an approved
    claim's payout recorded a few minutes later (now and then after its deadline)."""

    def needs(journey: Journey, state: JourneyState, now: datetime) -> list[DataNeed]:
        wanted = follow_up.check_needs(journey, state, "submitted", {}, now, refetch_failed=True)
        return [need for need in wanted if need.source != photos.SOURCE]

    clock.advance(randomly.uniform(5, 120))
    decided = components.system.apply(journey_id, follow_up.complete_checks, needs)
    outcome = (decided.state.outcome or {}).get("outcome")
    if outcome != "approved":
        return
    late = randomly.random() < 0.15
    if late:
        clock.advance(15 * 60 + randomly.uniform(1, 600))
        components.system.apply(journey_id, _breach)
    clock.advance(randomly.uniform(60, 600))
    components.system.apply(journey_id, _paid)


def _breach(journey: Journey, state: JourneyState, now: datetime) -> Transition:
    return follow_up.deadline_passed(
        state, "history:payout:deadline", "history:payout", "payout", now
    )


def _paid(journey: Journey, state: JourneyState, now: datetime) -> Transition:
    transition = follow_up.record_payment(
        journey, state, "history:payout", f"hist-{state.id}", "0", now
    )
    return replace(transition, effects=())  # nothing to run afterwards: it is history
