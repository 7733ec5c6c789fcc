"""A stand-in for a foreign country's NCPeH listener: a real HTTPS server on 127.0.0.1 holding that
country's real server certificate (so that the channel passes the trust-list pinning), whose answers
the test chooses by switching ``mode``.
"""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from gateway.server.demo import Topology
from tests.conftest import Running, started

#: Answers one GET: ``answer(request, mode)`` writes the whole response on ``request``.
Answer = Callable[[http.server.BaseHTTPRequestHandler, str], None]


def reply(request: http.server.BaseHTTPRequestHandler, status: int, body: bytes | dict,
          content_type: str = "application/fhir+json") -> None:
    """Send one complete response (a dict goes as JSON); a caller that gave up waiting is no error."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    try:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
    except OSError:
        request.close_connection = True


class StandIn:
    """The HTTPS server, started and stopped as the test wants; it keeps every connection it accepted
    so that stopping it drops the open (keep-alive) ones too: the country is down."""

    def __init__(self, host: str, port: int, cert: str, key: str, answer: Answer, mode: str) -> None:
        self.host, self.port, self.cert, self.key = host, port, cert, key
        self.answer, self.mode = answer, mode
        self.connections: list[socket.socket] = []
        self.server: http.server.ThreadingHTTPServer | None = None

    @classmethod
    def of(cls, cfg, answer: Answer, mode: str) -> StandIn:
        """The stand-in for the country configured by ``cfg``, on its NCPeH address, not yet started."""
        return cls(cfg.ncp.host, cfg.ncp.port, str(cfg.certs.server_cert), str(cfg.certs.server_key), answer, mode)

    def start(self, cert: str | None = None, key: str | None = None) -> None:
        """Listen, with the country's certificate or, for this run only, another one."""
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                stand_in.connections.append(self.connection)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                stand_in.answer(self, stand_in.mode)

        self.server = http.server.ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert or self.cert, key or self.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening and drop every open (keep-alive) connection: the country is down."""
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.server = None
        for conn in self.connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connections.clear()


@contextmanager
def standing_in(topo: Topology, answer: Answer, mode: str, code: str = "FR",
                skip: frozenset[tuple[str, str]] = frozenset()) -> Iterator[tuple[Running, StandIn]]:
    """Start ``topo`` but country ``code``'s listeners (and those in ``skip``), and a started stand-in for
    ``code``'s NCPeH; stop both afterwards."""
    with started(topo, skip=skip | {(code, "ncp"), (code, "public")}) as running:
        stand_in = StandIn.of(topo.configs[code], answer, mode)
        stand_in.start()
        try:
            yield running, stand_in
        finally:
            stand_in.stop()
