# syntax=docker/dockerfile:1
# ncpeh-gateway image: slim Python, multi-stage, non-root, gunicorn, compiled message catalogs, healthcheck.
# One image for every country: the country is chosen at run time with NCPEH_COUNTRY (see docker-compose.yml).

# --- build: a virtualenv with the gateway and its dependencies --------------------------------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip "babel>=2.14"
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY terminology ./terminology
# Message catalogs: .po -> .mo at build time (the .mo files are not in git; see .gitignore).
RUN if [ -d gateway/translations ]; then /opt/venv/bin/pybabel compile --statistics -d gateway/translations; fi
RUN /opt/venv/bin/pip install . && /opt/venv/bin/ncpeh --help > /dev/null

# --- runtime: no compiler, no sources, non-root ---------------------------------------------------
FROM python:3.11-slim
ARG NCPEH_UID=10001
# The folders that compose mounts named volumes on are created here, owned by the service user,
# so that a new named volume starts with that ownership (the user cannot chown them itself).
RUN useradd --system --uid "${NCPEH_UID}" --user-group --home-dir /srv/ncpeh --create-home \
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
