"""The floor of the cross-border benchmark: a pass-through relay over the same TLS setup.

Two tiny WSGI apps, served by gunicorn with the product's certificates and worker settings
(threaded workers, same ``server.workers`` / ``server.threads``, keep-alive, access log):

* ``a`` (country A, mutual TLS, client certificate from the demo CA required): answers
  ``GET /fhir/Patient/<id>/$summary`` with the stored document bytes, read from A's record store
  (one SQLite connection per thread). No assertion, no consent, no transcoding, no audit.
* ``b`` (country B, public TLS): forwards ``GET /fhir/Patient/<cc>-<id>/$summary`` to ``a`` with
  B's client certificate over a pooled keep-alive session and returns the bytes as they came. No
  token, no clinician assertion, no signing, no translation, no audit.

Started by ``crossborder_bench.py`` as ``python benchmarks/relay.py a|b --country FR|DE --port N
[--upstream URL]`` with the topology's environment (``NCPEH_HOME`` etc.). Never part of the product.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_SUMMARY = re.compile(r"^/fhir/Patient/([A-Za-z0-9.-]{1,64})/\$summary$")
_JSON = [("Content-Type", "application/fhir+json; charset=utf-8")]


def _answer(start_response, status: str, body: bytes, headers=None):  # noqa: ANN001, ANN202
    start_response(status, _JSON + [("Content-Length", str(len(body)))] + list(headers or []))
    return [body]


def make_a(database_path: Path):  # noqa: ANN201 - a WSGI app
    from gateway.storage.db import connect
    from gateway.storage.records import RecordStore

    local = threading.local()

    def records() -> RecordStore:
        if not hasattr(local, "records"):
            local.records = RecordStore(connect(database_path))
        return local.records

    def app(environ, start_response):  # noqa: ANN001, ANN202
        if environ.get("PATH_INFO") == "/_status":
            return _answer(start_response, "200 OK", b'{"status":"ok"}')
        match = _SUMMARY.match(environ.get("PATH_INFO", ""))
        summary = records().current_summary(match.group(1)) if match else None
        if summary is None:
            return _answer(start_response, "404 Not Found", b'{"resourceType":"OperationOutcome"}')
        return _answer(start_response, "200 OK", summary.document)

    return app


def make_b(cfg, upstream: str, pool_size: int):  # noqa: ANN001, ANN201 - a WSGI app
    import requests
    from requests.adapters import HTTPAdapter

    from gateway.security.tls import client_context

    ctx = client_context(cfg)

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, connections, maxsize, block=False, **kwargs):  # noqa: ANN001
            kwargs["ssl_context"] = ctx
            super().init_poolmanager(connections, maxsize, block=block, **kwargs)

    session = requests.Session()
    session.trust_env = False
    session.verify = str(cfg.certs.ca_cert)
    session.mount("https://", Adapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0))

    def app(environ, start_response):  # noqa: ANN001, ANN202
        if environ.get("PATH_INFO") == "/_status":
            return _answer(start_response, "200 OK", b'{"status":"ok"}')
        match = _SUMMARY.match(environ.get("PATH_INFO", ""))
        if not match or "-" not in match.group(1):
            return _answer(start_response, "404 Not Found", b'{"resourceType":"OperationOutcome"}')
        remote_id = match.group(1).split("-", 1)[1]
        resp = session.get(f"{upstream}/fhir/Patient/{remote_id}/$summary", timeout=(3, 10))
        return _answer(start_response, f"{resp.status_code} {resp.reason}", resp.content)

    return app


def main(argv: list[str] | None = None) -> None:
    from gateway.cli import load_country
    from gateway.server.gunicorn_app import GatewayServer

    parser = argparse.ArgumentParser(description="pass-through relay (benchmark floor)")
    parser.add_argument("role", choices=["a", "b"])
    parser.add_argument("--country", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", help="role b: the relay a's base URL")
    args = parser.parse_args(argv)
    cfg = load_country(args.country)
    listener = "ncp" if args.role == "a" else "public"
    app = make_a(cfg.database_path) if args.role == "a" else make_b(cfg, args.upstream, max(4, cfg.threads * 2))

    class Relay(GatewayServer):
        def options(self) -> dict[str, Any]:
            # the product's listener settings, on another port, with gunicorn's own threaded worker
            return {**super().options(), "bind": [f"127.0.0.1:{args.port}"], "worker_class": "gthread",
                    "proc_name": f"relay-{cfg.slug}-{args.role}"}

    Relay(cfg, listener, app).run()


if __name__ == "__main__":
    main()
