"""A gunicorn threaded worker that hands the TLS peer certificate to the application.

Gunicorn does not put the client certificate into the WSGI environ, only the connection's socket
(``environ["gunicorn.socket"]``): :func:`peer_certificate_middleware` reads the certificate from it
into ``environ["ncpeh.peer_cert"]`` (DER bytes, or None). Nothing passes through a thread-local.

It also reads what the application left unread of a request body (a 413, or a refusal before the
body was read) before answering, up to :data:`MAX_DRAIN` bytes, so that the client finishes sending
and then reads the answer on a connection that stays usable. gunicorn itself would drain at most 64
KiB *after* answering and then close the connection, after having announced keep-alive: the client
could lose the answer (connection reset while still sending) or its next request on that connection.
Beyond :data:`MAX_DRAIN` the answer says ``Connection: close``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from gateway.security.tls import PEER_CERT_ENVIRON

ENVIRON_KEY = PEER_CERT_ENVIRON  # the name the surfaces knew it by
#: Unread request body read and dropped before answering; beyond, the connection closes after the answer.
MAX_DRAIN = 1024 * 1024


class PeerCertThreadWorker(ThreadWorker):
    """gunicorn's threaded worker: its application gets the peer certificate, and unread bodies are drained."""

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = _close_when_body_left_unread(peer_certificate_middleware(self.wsgi))


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
        # gunicorn's start_response is a method of its Response, whose headers are not sent yet
        response = getattr(start_response, "__self__", None)
        if response is not None and hasattr(response, "force_close") and not _drained(environ):
            response.force_close()  # gunicorn then sends "Connection: close" and closes after the answer
        return result

    return wrapped


def peer_certificate(environ: dict[str, Any]) -> bytes | None:
    """The DER certificate the client presented on this request's TLS connection (None: none, or no TLS)."""
    sock = environ.get("gunicorn.socket")
    try:
        return sock.getpeercert(binary_form=True) if sock is not None else None
    except (AttributeError, ValueError, OSError):
        return None


def peer_certificate_middleware(app: Callable) -> Callable:
    """Put the TLS peer certificate into ``environ[ENVIRON_KEY]``, unless the server in front already did
    (a WSGI server of the tests; a client cannot set such a key: its headers become ``HTTP_*`` keys)."""

    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if ENVIRON_KEY not in environ:
            environ[ENVIRON_KEY] = peer_certificate(environ)
        return app(environ, start_response)

    return wrapped
