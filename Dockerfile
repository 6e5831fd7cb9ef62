# snapplan in a container: a small image (python slim), snapplan installed from this checkout into a virtual
# environment in a build stage, run as a non-root user. Build and run (see README, "Container image"):
#   docker build -t snapplan:0.1.0 .
#   docker run --rm -v "$PWD:/work:ro" -v "$HOME/.kube/config:/kube/config:ro" -e KUBECONFIG=/kube/config \
#     snapplan:0.1.0 plan -f /work/backup-policy
# Pin the base by digest in your registry mirror with --build-arg PYTHON_IMAGE=python:3.12.11-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=python:3.12.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY engine ./engine
# A venv without pip: the runtime image carries snapplan and its dependencies, no installer or compiler.
RUN python -m venv --without-pip /opt/snapplan \
    && python -m pip --python /opt/snapplan/bin/python install --no-cache-dir . \
    && /opt/snapplan/bin/snapplan --version

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="snapplan" \
      org.opencontainers.image.description="Velero backup policy as code: plan and apply" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 snapplan \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/snapplan --create-home --shell /usr/sbin/nologin snapplan
COPY --from=build /opt/snapplan /opt/snapplan
ENV PATH=/opt/snapplan/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["snapplan"]
CMD ["--help"]
