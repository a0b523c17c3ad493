"""The catalogue of journey definitions: the deployed ones, and every version still in flight."""

from __future__ import annotations

from wayline.journeys.loader import Journey, journey_from_document
from wayline.store import Connection, definitions


class Catalog:
    def __init__(self, journeys: dict[str, Journey]):
        self.current = dict(journeys)
        self._versions: dict[tuple[str, str], Journey] = {
            (journey.name, journey.version): journey for journey in journeys.values()
        }

    def names(self) -> list[str]:
        return sorted(self.current)

    def get(self, name: str) -> Journey | None:
        return self.current.get(name)

    def deploy(self, journey: Journey) -> None:
        """Make `journey` the version new journeys of its name start on (hot reload). Journeys
        in flight keep theirs: every version stays reachable by `version`. Save it in the
        store first, so that other processes find it too."""
        self._versions[(journey.name, journey.version)] = journey
        self.current = {**self.current, journey.name: journey}

    def version(self, connection: Connection, name: str, version: str) -> Journey:
        """The definition a journey started on, even after a newer one was deployed."""
        key = (name, version)
        if key not in self._versions:
            document = definitions.load(connection, name, version)
            if document is None:
                raise LookupError(f"definition {name}@{version} is not in the store")
            self._versions[key] = journey_from_document(document, version)
        return self._versions[key]
