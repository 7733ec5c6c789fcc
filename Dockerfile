# syntax=docker/dockerfile:1
# ncpeh-gateway image: slim Python, multi-stage, non-root, gunicorn, healthcheck.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY terminology ./terminology
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /srv/ncpeh --create-home ncpeh
COPY --from=build /opt/venv /opt/venv
COPY deploy/countries /etc/ncpeh/countries
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NCPEH_CONFIG_DIR=/etc/ncpeh/countries \
    NCPEH_HOME=/srv/ncpeh
USER ncpeh
WORKDIR /srv/ncpeh
EXPOSE 8443 9443
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["ncpeh", "healthcheck"]
CMD ["sh", "-c", "ncpeh serve --listener ncp & exec ncpeh serve --listener public"]
