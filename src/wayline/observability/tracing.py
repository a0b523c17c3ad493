"""OpenTelemetry tracing: a span per partner call (connectors) tagged with the partner and
attempt. Spans go nowhere unless an exporter is chosen: `WAYLINE_TRACING=console` prints them
(JSON, one per line) for local debugging; production wires an OTLP exporter here.

Without an exporter no SDK provider is installed: the API's default provider hands out
non-recording spans, so the span FastAPI opens for every request (and ours for partner calls)
costs a function call, not a sampled, attributed span that is then thrown away. The profile
of issue 9 found the SDK's spans at 3–4% of a step's server CPU (docs/performance.md).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor


def configure(exporter: str | None, service: str = "wayline") -> None:
    """Install a provider that sends spans to `exporter`; with none, leave the no-op one."""
    if exporter != "console":
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
