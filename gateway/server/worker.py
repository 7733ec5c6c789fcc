"""A gunicorn threaded worker that hands the TLS peer certificate to the application.

Gunicorn does not put the client certificate into the WSGI environ; this worker records it for
the duration of each request in a thread-local that :func:`peer_certificate_middleware` copies
into ``environ["ncpeh.peer_cert"]`` (DER bytes, or None).

It also reads what the application left unread of a request body (a 413, or a refusal before the
body was read) before answering, up to :data:`MAX_DRAIN` bytes, so that the client finishes sending
and then reads the answer on a connection that stays usable. gunicorn itself would drain at most 64
KiB *after* answering and then close the connection, after having announced keep-alive: the client
could lose the answer (connection reset while still sending) or its next request on that connection.
Beyond :data:`MAX_DRAIN` the answer says ``Connection: close``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

_local = threading.local()
ENVIRON_KEY = "ncpeh.peer_cert"
#: Unread request body read and dropped before answering; beyond, the connection closes after the answer.
MAX_DRAIN = 1024 * 1024


class PeerCertThreadWorker(ThreadWorker):
    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = _close_when_body_left_unread(self.wsgi)

    def handle_request(self, req, conn):  # type: ignore[override]
        try:
            _local.der = conn.sock.getpeercert(binary_form=True)
        except (AttributeError, ValueError, OSError):
            _local.der = None
        _local.req = req
        try:
            return super().handle_request(req, conn)
        finally:
            _local.der = None
            _local.req = None


def _declared_length(environ: dict[str, Any]) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _drained(environ: dict[str, Any]) -> bool:
    """Read and drop the rest of the request body; False when it is (or may be) longer than MAX_DRAIN."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return True
    if _declared_length(environ) > MAX_DRAIN:
        return False
    left = MAX_DRAIN
    try:
        while left >= 0:
            chunk = stream.read(min(64 * 1024, left + 1))
            if not chunk:
                return True
            left -= len(chunk)
    except (OSError, ValueError):  # the client went away, or sent a malformed chunked body
        return False
    return False


def _close_when_body_left_unread(app: Callable) -> Callable:
    """Drain the unread body before the answer is sent; mark the connection to close when that cannot be done."""

    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        result = app(environ, start_response)  # the answer is written by gunicorn after this returns
        req = getattr(_local, "req", None)
        if req is not None and not _drained(environ):
            req.force_close()  # gunicorn then sends "Connection: close" and closes after the answer
        return result

    return wrapped


def peer_certificate_middleware(app: Callable) -> Callable:
    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        environ[ENVIRON_KEY] = getattr(_local, "der", None)
        return app(environ, start_response)

    return wrapped
