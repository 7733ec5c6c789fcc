"""Both listeners of one country in one container: ``ncpeh serve --listener both``.

Gunicorn's arbiter owns its process (signals, worker reaping), so two listeners cannot share one.
The supervisor starts one ``ncpeh serve --listener <name>`` child per listener, forwards SIGTERM,
SIGINT and SIGHUP to them, and exits as soon as either child stops on its own (non-zero), after
stopping the other: the container then stops or is restarted by its restart policy, instead of
running with one listener dead (the weakness of ``sh -c "serve ncp & serve public"``).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable

from gateway.app import create_app
from gateway.config import CountryConfig
from gateway.security.tls import server_context
from gateway.server.gunicorn_app import check_port_free

LISTENERS = ("public", "ncp")
GRACE_SECONDS = 15.0


def preflight(cfg: CountryConfig, listeners: tuple[str, ...] | list[str]) -> None:
    """Everything that can fail before serving, so that it fails in one line before anything runs:
    ports, certificates and key password, trust list (including this country), signing key."""
    for listener in listeners:
        where = cfg.ncp if listener == "ncp" else cfg.public
        check_port_free(where.host, where.port, f"{cfg.code} {listener} listener")
        server_context(cfg, listener)
    create_app(cfg, listeners[0])


def child_command(cfg: CountryConfig, listener: str) -> list[str]:
    return [sys.executable, "-m", "gateway.cli", "serve", "--country", cfg.source, "--listener", listener]


def supervise(cfg: CountryConfig, echo: Callable[[str], None] | None = None, poll: float = 0.2) -> int:
    """Run both listeners until a signal (exit 0) or until one of them stops by itself (exit 1)."""
    echo = echo or (lambda line: print(line, file=sys.stderr, flush=True))
    received: list[int] = []

    def on_signal(signum: int, frame) -> None:  # noqa: ANN001
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    children: dict[str, subprocess.Popen] = {}
    try:
        for listener in LISTENERS:
            children[listener] = subprocess.Popen(child_command(cfg, listener))
            echo(f"ncpeh: {cfg.code} {listener} listener started (pid {children[listener].pid})")
        failed: str | None = None
        while failed is None:
            while received:
                signum = received.pop(0)
                if signum == signal.SIGHUP:
                    _send(children, signal.SIGHUP)  # gunicorn: reload configuration, restart workers
                    continue
                echo(f"ncpeh: {cfg.code}: {signal.Signals(signum).name} received, stopping both listeners")
                _stop(children)
                return 0
            for listener, child in children.items():
                if child.poll() is not None:
                    failed = listener
                    break
            else:
                time.sleep(poll)
        code = children[failed].returncode
        echo(f"ncpeh: error: {cfg.code} {failed} listener stopped (exit code {code}); stopping the other one")
        _stop(children)
        return 1
    finally:
        _stop(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _send(children: dict[str, subprocess.Popen], signum: int) -> None:
    for child in children.values():
        if child.poll() is None:
            try:
                child.send_signal(signum)
            except ProcessLookupError:
                pass


def _stop(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM (gunicorn's graceful shutdown), then SIGKILL after the grace period."""
    _send(children, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for child in children.values():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
