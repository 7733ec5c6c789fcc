# ncpeh-gateway image: slim Python, multi-stage, non-root, gunicorn, compiled message catalogs, healthcheck.
# One image for every country: the country is chosen at run time with NCPEH_COUNTRY (see docker-compose.yml).
# No "# syntax=" line: it would make BuildKit fetch a frontend image from a registry.

# Base image of both stages. Without a registry, `make compose-test` builds a Debian one (python3, venv,
# pip, ca-certificates) with mmdebstrap and passes it here: --build-arg PYTHON_IMAGE=ncpeh-base:bookworm.
ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a virtualenv with the gateway and its pinned dependencies -------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# Extra CA certificates for pip behind a TLS-intercepting proxy: PEM files in deploy/build-ca/*.crt
# (see deploy/build-ca/README.md) are added to the base image's bundle, which pip uses in this stage only.
COPY deploy/build-ca ./build-ca
RUN set -e; test -s /etc/ssl/certs/ca-certificates.crt || { echo "the base image has no CA bundle"; exit 1; }; \
    cat /etc/ssl/certs/ca-certificates.crt > /src/pip-ca.pem; \
    for ca in build-ca/*.crt; do if [ -f "$ca" ]; then echo "extra CA for pip: $ca"; cat "$ca" >> /src/pip-ca.pem; fi; done
ENV PIP_CERT=/src/pip-ca.pem
# Exactly the locked runtime dependencies (every file checked against its hash), then the project itself.
COPY requirements/runtime.txt ./requirements/runtime.txt
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --no-deps -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY terminology ./terminology
# Message catalogs: .po -> .mo at build time (the .mo files are not in git; see .gitignore).
RUN if [ -d gateway/translations ]; then /opt/venv/bin/pybabel compile --statistics -d gateway/translations; fi
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation . && /opt/venv/bin/ncpeh --help > /dev/null

# --- runtime: no compiler, no sources, non-root ---------------------------------------------------
FROM ${PYTHON_IMAGE}
# The service user's UID and GID are fixed, so that volumes and files copied out keep one owner across builds.
ARG NCPEH_UID=10001
ARG NCPEH_GID=10001
# The folders that compose mounts named volumes on are created here, owned by the service user,
# so that a new named volume starts with that ownership (the user cannot chown them itself).
RUN groupadd --system --gid "${NCPEH_GID}" ncpeh \
    && useradd --system --uid "${NCPEH_UID}" --gid "${NCPEH_GID}" --home-dir /srv/ncpeh --create-home \
        --shell /usr/sbin/nologin ncpeh \
    && install -d -o ncpeh -g ncpeh -m 0750 /srv/ncpeh/certs /srv/ncpeh/data
COPY --from=build /opt/venv /opt/venv
COPY deploy/countries /etc/ncpeh/countries
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NCPEH_CONFIG_DIR=/etc/ncpeh/countries \
    NCPEH_HOME=/srv/ncpeh \
    NCPEH_DATA_DIR=/srv/ncpeh/data
USER ncpeh
WORKDIR /srv/ncpeh
# 8443: public listener (portal, partner API, /_status); 9443: NCPeH-to-NCPeH listener (mutual TLS).
EXPOSE 8443 9443
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=10s --start-period=60s --retries=3 \
    CMD ["ncpeh", "healthcheck", "--listener", "both"]
# Both listeners as two supervised gunicorn process groups; the container stops if either dies.
CMD ["ncpeh", "serve", "--listener", "both"]
