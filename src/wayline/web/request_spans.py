"""Pure ASGI middleware: one server span per HTTP request, named by its route template.

It continues the caller's trace when the request carries a W3C `traceparent` header, and is
the parent of the command, partner-call and database work the request does, so one trace
shows a step submission end to end. Its attributes are the method, the route template and
the status code: never the path or the query string, which can hold what a customer typed
(a postcode in a lookup), nor any header or body. OpenTelemetry's own ASGI instrumentation
records the full URL, hence this small middleware rather than it.

With no exporter configured (observability/tracing.py) the span is a no-op and the
middleware costs a few function calls.
"""

from __future__ import annotations

from opentelemetry import propagate
from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wayline.observability.tracing import start_span


class RequestSpans:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in (b"traceparent", b"tracestate")
        }
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with start_span(
            "wayline.web", method, context=propagate.extract(carrier), kind=SpanKind.SERVER
        ) as span:
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                if span.is_recording():
                    route = getattr(scope.get("route"), "path", None) or "unmatched"
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.request.method", method)
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
