"""Which version a new journey gets while its type is being released.

A new journey goes to the canary when its subject's bucket (a SHA-256 of the journey type and
the customer's id, or the visitor's for one not signed in, into 10,000 buckets) is below the
canary's share: the same customer always lands in the same bucket, so they keep the same
version as the share grows (10% are inside 50%), and no state is kept per customer. Journeys
in flight are never moved: they finish on the version they started on.

After a release ends: rolled back, new journeys get the stable version (even where servers
still load the canary's file); promoted, they get the canary (even where servers still load
the stable file). A version deployed after that (neither of the two) is used as it is.
"""

from __future__ import annotations

import hashlib

from wayline.journeys.loader import Journey
from wayline.runtime.catalog import Catalog
from wayline.store import Store
from wayline.store import releases as release_store
from wayline.store.releases import ReleaseRow

BUCKETS = 10_000
OPEN = ("running", "paused")


def bucket(journey: str, subject: str) -> int:
    """The subject's bucket for this journey type, 0 to 9,999: the same every time."""
    digest = hashlib.sha256(f"{journey}\x00{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_canary(journey: str, subject: str, percent: int) -> bool:
    return bucket(journey, subject) < percent * BUCKETS // 100


def version_for(release: ReleaseRow | None, current: str, subject: str) -> str:
    """The version a new journey of `subject` starts on, given the type's latest release and
    the version the catalogue would start it on. Pure."""
    if release is None:
        return current
    if release.status in OPEN:
        canary = in_canary(release.journey, subject, release.percent)
        return release.canary_version if canary else release.stable_version
    if release.status == "rolled_back" and current == release.canary_version:
        return release.stable_version
    if release.status == "promoted" and current == release.stable_version:
        return release.canary_version
    return current


class Assignment:
    """Chooses each new journey's definition version from the releases in the store."""

    def __init__(self, store: Store, catalog: Catalog):
        self.store = store
        self.catalog = catalog

    def choose(self, current: Journey, subject: str) -> Journey:
        """The definition a new journey of `current`'s type starts on for `subject`."""
        with self.store.read() as connection:
            release = release_store.latest(connection, current.name)
            version = version_for(release, current.version, subject)
            if version == current.version:
                return current
            return self.catalog.version(connection, current.name, version)
