"""Run one listener of one country under gunicorn (threaded workers, keep-alive, TLS)."""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Any

from gunicorn.app.base import BaseApplication

from gateway.app import create_app
from gateway.config import CountryConfig
from gateway.security.tls import server_context
from gateway.server.access_log import ACCESS_LOG_FORMAT
from gateway.server.worker import peer_certificate_middleware
from gateway.surfaces.openapi import MAX_REQUEST_LINE


class ServeError(Exception):
    """A listener cannot start; the message says what and where."""


def check_port_free(host: str, port: int, what: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"{what} {host}:{port}: port already in use") from None
            raise ServeError(f"{what} {host}:{port}: cannot listen ({exc.strerror})") from None


class GatewayServer(BaseApplication):
    def __init__(self, cfg: CountryConfig, listener: str, app) -> None:  # noqa: ANN001
        self.cfg_country, self.listener, self.application = cfg, listener, app
        super().__init__()

    def options(self) -> dict[str, Any]:
        """gunicorn settings of the listener (the benchmark's relay reuses them: benchmarks/relay.py)."""
        cfg, listener = self.cfg_country, self.listener
        where = cfg.ncp if listener == "ncp" else cfg.public
        return {
            "bind": [f"{where.host}:{where.port}"],
            "workers": cfg.workers,
            "threads": cfg.threads,
            "worker_class": "gateway.server.worker.PeerCertThreadWorker",
            "keepalive": 30,
            "timeout": 60,
            "graceful_timeout": 10,
            "certfile": str(cfg.certs.server_cert),
            "keyfile": str(cfg.certs.server_key),
            "ca_certs": str(cfg.certs.ca_cert) if listener == "ncp" else None,
            "cert_reqs": ssl.CERT_REQUIRED if listener == "ncp" else ssl.CERT_NONE,
            "ssl_context": lambda conf, default_factory: server_context(cfg, listener),
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "logger_class": "gateway.server.access_log.AccessLogger",
            "errorlog": "-",
            "loglevel": cfg.log_level,
            "proc_name": f"ncpeh-{cfg.slug}-{listener}",
            "limit_request_field_size": 16384,
            "limit_request_line": MAX_REQUEST_LINE,  # the OpenAPI description declares the 414 beyond it
            # gunicorn >= 25.1 opens a control socket at one fixed path per user ($HOME/.gunicorn/gunicorn.ctl):
            # the two listeners of a country (and every country of `ncpeh demo`) would take it from each other.
            # Nothing here uses gunicornc; the supervisor and signals control the processes.
            "control_socket_disable": True,
            "umask": 0o077,  # what gunicorn creates (worker heartbeat files) is private, as everything else
        }

    def load_config(self) -> None:
        for key, value in self.options().items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self):  # noqa: ANN201
        return self.application


def serve(cfg: CountryConfig, listener: str) -> None:
    """Validate everything that can fail, then hand over to gunicorn (blocks until stopped)."""
    where = cfg.ncp if listener == "ncp" else cfg.public
    check_port_free(where.host, where.port, f"{cfg.code} {listener} listener")
    server_context(cfg, listener)  # unreadable certificate / wrong key password fail here, in one line
    app = create_app(cfg, listener)
    if listener == "ncp":  # the TLS client certificate, read from gunicorn's socket, into the WSGI environ
        app.wsgi_app = peer_certificate_middleware(app.wsgi_app)  # type: ignore[method-assign]
    GatewayServer(cfg, listener, app).run()
