# Wayline's image: `wayline serve` by default; the worker and the event relay run the same image
# with another command (deploy/aws runs all three). Two stages: the build stage installs Wayline
# into a virtual environment; the runtime stage copies that alone, and runs as a user without
# a login or a home of its own. docs/deploy.md says how to build and push it.
#
# The base image is pinned by its full version; the release pins its digest too, with
# --build-arg PYTHON_IMAGE=python:3.11.11-slim-bookworm@sha256:<digest> (docs/decisions/0013).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# The project's metadata first, so a change to the code alone reuses the dependency layer.
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/wayline \
    && /opt/wayline/bin/pip install --no-cache-dir .

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="Wayline" \
      org.opencontainers.image.description="Digital customer journeys for financial services"
ENV PATH=/opt/wayline/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WAYLINE_HOME=/var/lib/wayline \
    WAYLINE_JOURNEYS_DIR=/app/journeys \
    WAYLINE_PARTNERS_DIR=/app/partners \
    WAYLINE_MODELS_DIR=/app/models
RUN groupadd --system --gid 10001 wayline \
    && useradd --system --uid 10001 --gid wayline --no-create-home --shell /usr/sbin/nologin wayline \
    && mkdir -p /var/lib/wayline \
    && chown wayline:wayline /var/lib/wayline
COPY --from=build /opt/wayline /opt/wayline
WORKDIR /app
# The definitions and declarations Wayline serves, and the partner connectors (replace
# connectors.yaml with the organisation's own: docs/deploy.md).
COPY journeys ./journeys
COPY partners ./partners
# The decisions' models (skops files, loaded with an explicit list of trusted types).
COPY models ./models
COPY connectors.yaml ./connectors.yaml
# Fargate starts a task's volumes with the image's contents and ownership at these paths: the
# task runs with a read-only root filesystem and writes only here (deploy/aws).
VOLUME ["/var/lib/wayline", "/tmp"]
USER 10001:10001
EXPOSE 8000
# Liveness only (/healthz): readiness, which needs the database, is the load balancer's check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
ENTRYPOINT ["wayline"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
