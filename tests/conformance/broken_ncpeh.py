"""A deliberately broken NCPeH for the conformance kit's tests: this project's NCPeH-to-NCPeH app, over
HTTPS with the country's real certificates (werkzeug's threaded server), with one fault injected.

    python -m tests.conformance.broken_ncpeh FAULT PORT     (environment of the country, as Topology gives)

Faults: ``accepts-expired`` (the expiry of assertions is not checked), ``ignores-replay`` (jti never
recorded), ``refuses-hcp-reuse`` (the HCP assertion's jti single-use, as before issue #23), ``non-document``
($summary answers a Bundle of type collection), ``no-client-cert`` (no client certificate asked for; a
caller without one is taken for DE), ``old-tls`` (TLS 1.0 and 1.1 accepted).
Prints ``ready`` once it listens.
"""

from __future__ import annotations

import os
import ssl
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.config import country_file, load_config
from gateway.security import assertions, tls
from gateway.security.pki import load_certificate
from gateway.server import worker

FAULTS = ("accepts-expired", "ignores-replay", "refuses-hcp-reuse", "non-document", "no-client-cert", "old-tls")


def _accept_expired() -> None:
    original = assertions.AssertionVerifier._time

    def _time(self, item, now):  # noqa: ANN001, ANN202 - same signature as the original
        exp = item.claims.get("exp")
        return original(self, item, min(now, int(exp)) if isinstance(exp, int) else now)

    assertions.AssertionVerifier._time = _time  # type: ignore[method-assign]


def _ignore_replay() -> None:
    assertions.AssertionVerifier._fresh = lambda self, verified: None  # type: ignore[method-assign]


def _refuse_hcp_reuse() -> None:
    """Every HCP assertion verified in full and its jti recorded as single-use, like the TRC's."""
    original = assertions.AssertionVerifier._fresh

    def _fresh(self, verified):  # noqa: ANN001, ANN202 - same signature as the original
        original(self, verified)
        for item in verified:
            if item.kind == "HCP" and not self.replay.remember_all(self.peer.code, [(item.claims["jti"], "HCP",
                                                                                    int(item.claims["exp"]) + 30)]):
                raise assertions.AssertionRejected("HCP assertion replayed", code="ASSERTION_REPLAYED")

    assertions.AssertionVerifier._fresh = _fresh  # type: ignore[method-assign]
    assertions.AssertionVerifier._kept = lambda self, key, now: None  # type: ignore[method-assign]


def _collection(app: Callable) -> Callable:
    """Rewrite a successful $summary into a Bundle of type collection."""

    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").endswith("/$summary"):
            return app(environ, start_response)
        captured: list[Any] = []
        body = b"".join(app(environ, lambda status, headers, exc_info=None: captured.extend([status, headers])))
        status, headers = captured
        if status.startswith("200"):
            bundle = orjson.loads(body)
            bundle["type"] = "collection"
            body = orjson.dumps(bundle)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [body]

    return wrapped


def _peer_certificate(app: Callable, fallback: bytes | None) -> Callable:
    """What gunicorn's worker does in production: the TLS peer certificate for the app (or ``fallback``)."""

    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        sock = environ.get("werkzeug.socket")
        try:
            der = sock.getpeercert(binary_form=True) if sock is not None else None
        except (AttributeError, ValueError, OSError):
            der = None
        environ[worker.ENVIRON_KEY] = der or fallback
        return app(environ, start_response)

    return wrapped


def main(fault: str, port: int) -> None:
    cfg = load_config(country_file(os.environ.get("NCPEH_COUNTRY", "FR"), None))
    if fault == "accepts-expired":
        _accept_expired()
    elif fault == "ignores-replay":
        _ignore_replay()
    elif fault == "refuses-hcp-reuse":
        _refuse_hcp_reuse()
    app = create_app(cfg, "ncp")
    wsgi = app.wsgi_app
    if fault == "non-document":
        wsgi = _collection(wsgi)
    context = tls.server_context(cfg, "ncp")
    fallback = None
    if fault == "no-client-cert":
        context.verify_mode = ssl.CERT_NONE
        client = load_certificate(cfg.certs_dir / "de" / "tls-client.crt")
        fallback = client.public_bytes(serialization.Encoding.DER)
    if fault == "old-tls":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.TLSv1
    server = make_server("127.0.0.1", port, _peer_certificate(wsgi, fallback), threaded=True, ssl_context=context)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in FAULTS:
        sys.exit(f"usage: python -m tests.conformance.broken_ncpeh {'|'.join(FAULTS)} PORT")
    main(sys.argv[1], int(sys.argv[2]))
