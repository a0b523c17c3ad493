"""OpenTelemetry tracing: a span per partner call (connectors) tagged with the partner and
attempt. Spans go nowhere unless an exporter is chosen: `WAYLINE_TRACING=console` prints them
(JSON, one per line) for local debugging; production wires an OTLP exporter here."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor


def configure(exporter: str | None, service: str = "wayline") -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
