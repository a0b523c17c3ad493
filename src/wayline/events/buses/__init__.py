"""The buses events are published to, chosen by URL (WAYLINE_EVENT_BUS): one module each."""

from __future__ import annotations

from wayline.events.buses.base import Bus, PublishFailed


class UnknownBus(ValueError):
    """A bus URL Wayline cannot publish to."""


def open_bus(
    url: str, stream: str = "WAYLINE", timeout: float = 5.0, prefix: str = "wayline"
) -> Bus | None:
    """The bus at `url`: nats://…, eventbridge://bus-name, or none (None: events stay in the
    database only)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else url.strip().lower()
    if scheme in ("", "none"):
        return None
    if scheme in ("nats", "tls"):
        from wayline.events.buses.nats import NatsBus

        return NatsBus(url, stream=stream, timeout=timeout, prefix=prefix)
    if scheme == "eventbridge":
        from wayline.events.buses.eventbridge import EventBridgeBus

        return EventBridgeBus(url, timeout=timeout)
    raise UnknownBus(f"Unknown event bus {url!r}: use nats://…, eventbridge://bus-name or none")


__all__ = ["Bus", "PublishFailed", "UnknownBus", "open_bus"]
