"""OpenTelemetry tracing: a span per request (web/tracing.py), per command (runtime/commands),
per partner call (connectors/http.py) and per effect the worker runs (runtime/worker.py).

Spans go nowhere unless an exporter is chosen:

- `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, or
  `WAYLINE_TRACING=otlp`: spans are batched (BatchSpanProcessor: a background thread sends
  them, so a request never waits on the collector) and exported over OTLP/HTTP with protobuf.
  The exporter reads the standard `OTEL_EXPORTER_OTLP_*` variables itself (endpoint, headers,
  timeout, compression), and `OTEL_BSP_*` tune the batching;
- `WAYLINE_TRACING=console` prints them (JSON, one per line) for local debugging.

Without an exporter no SDK provider is installed: the API's default provider hands out
non-recording spans, so each of our spans costs a function call, not a sampled, attributed span
that is then thrown away. The profile of issue 9 found the SDK's spans at 3–4% of a step's
server CPU (docs/performance.md).

Attributes name things (the route template, the command, the journey's id and type, the step,
the partner, the effect's kind), never what a customer typed: `command_span` takes only the
arguments in `COMMAND_ATTRIBUTES`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, ParamSpec, TypeVar

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.trace import Span, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_tracers: dict[str, tuple[trace.TracerProvider, Tracer]] = {}
P = ParamSpec("P")
R = TypeVar("R")
# The command arguments a span may carry: ids and names, never answers or documents.
COMMAND_ATTRIBUTES = {
    "journey_id": "wayline.journey_id",
    "journey_type": "wayline.journey",
    "step": "wayline.step",
}


def configure(exporter: str | None, service: str = "wayline") -> TracerProvider | None:
    """Install a provider that sends spans to `exporter` ("otlp" or "console"); with none,
    leave the no-op one. Returns the provider installed (to flush it: `shutdown()`)."""
    processor = _processor(exporter)
    if processor is None:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    return provider


def _processor(exporter: str | None) -> SpanProcessor | None:
    if exporter == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter())
    if exporter == "otlp":
        # Imported here: a process without OTLP never loads protobuf.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return BatchSpanProcessor(OTLPSpanExporter())
    return None


def tracer(name: str) -> Tracer:
    """The tracer of the provider installed now. A module-level `trace.get_tracer` would keep
    the first provider it ever saw; this follows the provider, so a process (or a test) may
    install one after the modules are imported. Kept per provider: making a tracer costs more
    than a no-op span."""
    provider = trace.get_tracer_provider()
    cached = _tracers.get(name)
    if cached is not None and cached[0] is provider:
        return cached[1]
    made = provider.get_tracer(name)
    _tracers[name] = (provider, made)  # a race makes one tracer twice: harmless
    return made


def start_span(scope: str, name: str, **options: Any) -> AbstractContextManager[Span]:
    """A span made current for the `with` block, from `scope`'s tracer. Exceptions are not
    recorded as events: their messages can quote what a customer typed (a parser's error, a
    partner's refusal); callers set `error.type` instead."""
    return tracer(scope).start_as_current_span(
        name, record_exception=False, set_status_on_exception=False, **options
    )


def command_span(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated command inside a span named `command <name>`, with the journey's id,
    its type and the step among its arguments as attributes (and nothing else of them)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(function)
        wanted = [argument for argument in signature.parameters if argument in COMMAND_ATTRIBUTES]

        @functools.wraps(function)
        def traced(*args: P.args, **kwargs: P.kwargs) -> R:
            with start_span("wayline.commands", f"command {name}") as span:
                if span.is_recording():
                    span.set_attribute("wayline.command", name)
                    bound = signature.bind_partial(*args, **kwargs).arguments
                    for argument in wanted:
                        value = bound.get(argument)
                        if isinstance(value, str | int):
                            span.set_attribute(COMMAND_ATTRIBUTES[argument], value)
                try:
                    return function(*args, **kwargs)
                except Exception as error:
                    # The type only: a refusal's message can quote what the customer typed.
                    span.set_attribute("error.type", type(error).__name__)
                    raise

        return traced

    return decorate


def ids_of_current_span() -> dict[str, Any]:
    """The trace and span ids of the span recording now, in the W3C form (32 and 16 hex
    digits) that tracing back-ends search by; nothing when no span is recording."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid or not trace.get_current_span().is_recording():
        return {}
    return {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
    }


_PROPAGATOR = TraceContextTextMapPropagator()


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the span in progress, or None outside a sampled trace (the
    events' outbox keeps it, so a published event joins the trace that caused it)."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")
