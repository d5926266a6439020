# syntax=docker/dockerfile:1
# Quorum in a container (see README, "Running in production"). Two stages: the first
# builds a virtual environment, the second copies it onto a clean slim image and runs
# it as an unprivileged user; the store lives on a volume, the config is mounted
# read-only, and secrets come from the environment.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY templates ./templates
COPY contrib/install.sh ./contrib/install.sh
# The same steps as on a VM: a venv at /opt/quorum, with the templates beside the package.
RUN sh contrib/install.sh /opt/quorum

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="Quorum" \
      org.opencontainers.image.description="RFCs, votes, concerns and maintainers across a mailing list, Discourse and Slack" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed uid/gid, so the volume's owner is known before the first start.
RUN groupadd --system --gid 10001 quorum \
 && useradd --system --uid 10001 --gid quorum --home-dir /var/lib/quorum --no-create-home \
      --shell /usr/sbin/nologin quorum \
 && install -d -o quorum -g quorum -m 0750 /var/lib/quorum \
 && install -d -m 0755 /etc/quorum
COPY --from=build /opt/quorum /opt/quorum
COPY contrib/docker-entrypoint.sh /usr/local/bin/quorum-entrypoint
ENV PATH=/opt/quorum/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    QUORUM_CONFIG=/etc/quorum/quorum.toml \
    QUORUM_DB=/var/lib/quorum/quorum.db \
    QUORUM_LOG_FORMAT=json
# Numeric, so a platform can check it is not root (Kubernetes runAsNonRoot) without /etc/passwd.
USER 10001:10001
WORKDIR /var/lib/quorum
VOLUME ["/var/lib/quorum"]
# SMTP from the relay, and the dashboard (/healthz, /metrics) for the reverse proxy.
EXPOSE 8025 8080
# `quorum run` stops accepting, finishes every delivery it answered, then exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["quorum", "health"]
ENTRYPOINT ["quorum-entrypoint"]
CMD ["run"]
