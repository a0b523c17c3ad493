"""Cases for the demo's workbench, made once when the demo starts on a fresh database:

- Alex's cash claim with a £6,000 repair estimate, referred (over £3,000), and approved by
  Casey, which over the four-eyes limit is a proposal: it waits for Morgan's approval;
- Jordan's claim, referred for the fraud bureau's marker: it is in the fraud queue for Riley.
  One of its photos is also in Alex's claim, so (where the worker assesses photos) Riley sees
  the reuse match beside Alex's photo;
- Alex's windscreen claim with a £2,500 estimate: under the £3,000 rule, but the
  claim-triage model scores it over 0.8, so it is referred, and its case shows the score and
  the reasons that moved it (docs/models.md).

Everything goes through the real commands, as a customer and the system would: start, each
step, the uploads through the document checks, send, the checks (the worker, when partners
are connected; otherwise the same check-and-decide with the in-process demo sources), then
Casey's claim and proposal through the workbench. Nothing is inserted by hand. A customer
who already has a journey gets none (a restart does not make them again), and Alex can still
make a fresh claim.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw

from wayline.bootstrap import Components
from wayline.documents.pipeline import DocumentPipeline, Limits
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import Role
from wayline.ids import new_id
from wayline.journeys import follow_up
from wayline.journeys.engine import DataNeed, JourneyState, Transition
from wayline.journeys.loader import Journey
from wayline.observability.logging import get_logger
from wayline.runtime import photos
from wayline.runtime.results import Changed
from wayline.store import cases as case_rows

log = get_logger("wayline.demo")
JOURNEY = "motor-claim"
POLICIES = {"alex": "MTR-100001", "jordan": "MTR-100004"}
PROPOSED_ESTIMATE = "6000"
MODEL_REFERRED_ESTIMATE = "2500"  # about seven times a typical windscreen's
WORKER_ROUNDS = 50


class Seeding:
    """One customer's claim driven through the commands, step by step."""

    def __init__(self, components: Components, customer: str):
        self.components = components
        self.customer = customer
        settings = components.settings
        self.pipeline = DocumentPipeline(
            components.storage, components.scanner, Limits.from_settings(settings)
        )
        self.changed: Changed = components.commands.start(customer, JOURNEY)

    @property
    def journey_id(self) -> str:
        return self.changed.journey_id

    def step(self, name: str, answers: dict[str, Any]) -> None:
        self.changed = self.components.commands.submit_step(
            self.customer, self.journey_id, name, answers, self.changed.revision
        )

    def field(self, name: str) -> dict[str, Any]:
        """A field of the current step as the API shows it (its options, its prefill)."""
        view = self.components.queries.view_of(self.changed)
        return next(f for f in view["current_step"]["fields"] if f["name"] == name)

    def upload(self, field: str, content: bytes, filename: str) -> str:
        """One file through the same checks as a customer's upload; its document id."""
        documents = self.components.documents
        spec = documents.file_field(self.customer, self.journey_id, field)
        assert spec is not None, field
        checked = self.pipeline.check(spec, io.BytesIO(content))
        try:
            document_id = new_id()
            kept = self.pipeline.keep(checked, self.journey_id, document_id)
            documents.record(
                self.customer,
                self.journey_id,
                {
                    "id": document_id,
                    "field": field,
                    "filename": filename,
                    "content_type": checked.content_type,
                    "size": checked.size,
                    "sha256": checked.sha256,
                    "status": checked.status,
                    "reason": checked.reason,
                    "storage_key": kept.storage_key,
                    "display_key": kept.display_key,
                    "display_content_type": kept.display_content_type,
                    "evidence": checked.evidence,
                },
            )
        finally:
            checked.close()
        return document_id

    def send(self) -> None:
        self.changed = self.components.commands.submit(
            self.customer, self.journey_id, self.changed.revision, True
        )


def seed(components: Components) -> list[str]:
    """Make the demo's cases unless their customers have journeys already; the ids of the
    journeys made. Each claim ends referred, with its case open."""
    if any(components.queries.journeys_of(customer) for customer in POLICIES):
        return []
    shared = photo(seed=7)
    alex = proposed_payout(components, shared)
    jordan = fraud_referral(components, shared)
    scored = model_referral(components)
    log.info("demo.cases_seeded", journeys=3)
    return [alex, jordan, scored]


def proposed_payout(components: Components, shared_photo: bytes) -> str:
    """Alex's £6,000 cash claim, referred, claimed by Casey and approved by him: a proposal
    over the four-eyes limit, waiting for a senior handler."""
    claim = Seeding(components, "alex")
    _incident(claim, "collision_object")
    claim.step(
        "photos", {"damage_photos": [claim.upload("damage_photos", shared_photo, "rear.jpg")]}
    )
    estimate = claim.upload("estimate_document", photo(seed=3), "garage-estimate.jpg")
    claim.step(
        "settlement",
        {
            "settlement": "cash",
            "estimate_amount": PROPOSED_ESTIMATE,
            "estimate_document": [estimate],
        },
    )
    claim.step("payment-details", {"payout_account": claim.field("payout_account")["value"]})
    claim.send()
    case_id = _referred(components, claim.journey_id)
    casey = _staff("casey", Role.HANDLER)
    components.cases.claim(casey, case_id)
    components.cases.decide(casey, case_id, "approve", "verified")
    return claim.journey_id


def model_referral(components: Components) -> str:
    """Alex's windscreen claim that only the claim-triage model refers; in the claims queue."""
    claim = Seeding(components, "alex")
    _incident(claim, "glass")
    claim.step(
        "photos", {"damage_photos": [claim.upload("damage_photos", photo(seed=11), "glass.jpg")]}
    )
    estimate = claim.upload("estimate_document", photo(seed=12), "glass-quote.jpg")
    claim.step(
        "settlement",
        {
            "settlement": "cash",
            "estimate_amount": MODEL_REFERRED_ESTIMATE,
            "estimate_document": [estimate],
        },
    )
    claim.step("payment-details", {"payout_account": claim.field("payout_account")["value"]})
    claim.send()
    _referred(components, claim.journey_id)
    return claim.journey_id


def fraud_referral(components: Components, shared_photo: bytes) -> str:
    """Jordan's claim for a repair, referred for the fraud bureau's marker; in the fraud
    queue, nobody holding it."""
    claim = Seeding(components, "jordan")
    _incident(claim, "collision_object")
    own = claim.upload("damage_photos", photo(seed=1), "front.jpg")
    reused = claim.upload("damage_photos", shared_photo, "side.jpg")
    claim.step("photos", {"damage_photos": [own, reused]})
    repairer = claim.field("repairer_id")["options"][0]["value"]
    claim.step("settlement", {"settlement": "repairer", "repairer_id": repairer})
    claim.send()
    _referred(components, claim.journey_id)
    return claim.journey_id


def _incident(claim: Seeding, kind: str) -> None:
    claim.step("policy", {"policy_number": POLICIES[claim.customer]})
    claim.step(
        "incident",
        {
            "incident_date": (datetime.now(UTC).date() - timedelta(days=5)).isoformat(),
            "incident_time": "08:40",
            "incident_type": kind,
            "incident_postcode": "SW1A 1AA",
            "description": "Reversing out of a parking space, I hit a bollard.",
            "driveable": True,
        },
    )


def _referred(components: Components, journey_id: str) -> str:
    """The sent claim checked and decided (referred): its open case's id."""
    _check(components, journey_id)
    state = components.system.current(journey_id).state
    if state.status.value != "in_review":
        raise RuntimeError(f"demo claim {journey_id} was not referred: {state.status.value}")
    with components.store.read() as connection:
        case = case_rows.open_case_of(connection, journey_id)
    if case is None:
        raise RuntimeError(f"demo claim {journey_id} has no open case")
    return case.id


def _check(components: Components, journey_id: str) -> None:
    """What happens after a claim is sent: with partners, the worker runs what is due (the
    checks with the photo assessment, the messages); with the in-process sources, the same
    check-and-decide without the photo assessment (it needs the geocoder)."""
    if components.partners is not None:
        worker = components.worker(base_delay=0.01)
        for _ in range(WORKER_ROUNDS):
            worker.run_due()
            if components.system.current(journey_id).state.status.value != "submitted":
                return
        return

    def needs(journey: Journey, state: JourneyState, now: datetime) -> list[DataNeed]:
        wanted = follow_up.check_needs(journey, state, "submitted", {}, now, refetch_failed=True)
        return [need for need in wanted if need.source != photos.SOURCE]

    def decide(journey: Journey, state: JourneyState, now: datetime) -> Transition:
        scorer = components.scorer
        return follow_up.complete_checks(
            journey, state, now, scorer.scored if scorer is not None else None
        )

    components.system.apply(journey_id, decide, needs)


def _staff(subject: str, role: Role) -> Principal:
    return Principal(subject, Kind.STAFF, frozenset({role}), 1, datetime.now(UTC), "demo")


def photo(seed: int, size: tuple[int, int] = (640, 480)) -> bytes:
    """A photo-like picture (stripes and shapes, so its perceptual hash means something),
    different for each seed."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 8):
        draw.rectangle([x, 0, x + 8, height], fill=((x * 255 // width + seed * 40) % 256, 90, 140))
    draw.ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4], fill=(240, 200, 40))
    left = seed * 37 % (width - 40)
    draw.rectangle([left, 0, left + 40, height // 3], fill=(10, 10, 10))
    draw.polygon([(0, height), (width // 3, height // 2), (width // 2, height)], fill=(30, 140, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()
