"""A gunicorn threaded worker that hands the TLS peer certificate to the application.

Gunicorn does not put the client certificate into the WSGI environ; this worker records it for
the duration of each request in a thread-local that :func:`peer_certificate_middleware` copies
into ``environ["ncpeh.peer_cert"]`` (DER bytes, or None).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

_local = threading.local()
ENVIRON_KEY = "ncpeh.peer_cert"


class PeerCertThreadWorker(ThreadWorker):
    def handle_request(self, req, conn):  # type: ignore[override]
        try:
            _local.der = conn.sock.getpeercert(binary_form=True)
        except (AttributeError, ValueError, OSError):
            _local.der = None
        try:
            return super().handle_request(req, conn)
        finally:
            _local.der = None


def peer_certificate_middleware(app: Callable) -> Callable:
    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        environ[ENVIRON_KEY] = getattr(_local, "der", None)
        return app(environ, start_response)

    return wrapped
