"""Where a request's time goes, as a ``Server-Timing`` response header (W3C Server Timing).

Code on the request path wraps its stages with :func:`stage` (or the :func:`timed` decorator); the
durations accumulate per stage name in the request context and one ``after_request`` hook
(:func:`init_app`) writes them, with the whole time spent in the application (``app``), as::

    Server-Timing: auth;dur=0.41, clinician;dur=0.35, sign;dur=0.52, peer;dur=9.8, ...

Durations are milliseconds. Country B also passes on country A's figures, prefixed ``peer-``
(``peer-verify``, ``peer-transcode``, ``peer-app``...), so that a partner or the benchmark sees the
whole chain; the network and TLS share is what the outer figure leaves unexplained. Stage names
and durations only: no identifiers, no content. Outside a request every helper does nothing.

The header is only sent when the app's ``NCPEH_SERVER_TIMING`` is on (setting ``server_timing``,
env ``NCPEH_SERVER_TIMING=1``; off by default: partner software would see both countries' internal
stage timings); the stages are recorded either way. An app without the setting (tests) sends it.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from flask import Flask, Response, g

HEADER = "Server-Timing"
_ITEM = re.compile(r"^\s*([A-Za-z0-9_.-]{1,40})\s*(?:;.*?dur=([0-9]+(?:\.[0-9]+)?))?")
_MAX_REMOTE = 30
F = TypeVar("F", bound=Callable[..., Any])


#: The stages of the request being handled by this thread (None outside a request): a context
#: variable rather than ``flask.g``, so that recording a stage costs a dictionary update.
_STAGES: ContextVar[dict[str, float] | None] = ContextVar("ncpeh_server_timing", default=None)


def add(name: str, seconds: float) -> None:
    """Add ``seconds`` to stage ``name`` of the current request."""
    stages = _STAGES.get()
    if stages is not None:
        stages[name] = stages.get(name, 0.0) + seconds * 1000.0


@contextmanager
def stage(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        add(name, time.perf_counter() - started)


def timed(name: str) -> Callable[[F], F]:
    """Decorator: the call counts towards stage ``name``."""

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                add(name, time.perf_counter() - started)

        return wrapper  # type: ignore[return-value]

    return decorator


def parse(value: str | None) -> dict[str, float]:
    """``{"name": milliseconds}`` from a Server-Timing header (entries without ``dur`` are skipped)."""
    out: dict[str, float] = {}
    for item in (value or "").split(",")[:_MAX_REMOTE]:
        match = _ITEM.match(item)
        if match and match.group(2) is not None:
            out[match.group(1)] = out.get(match.group(1), 0.0) + float(match.group(2))
    return out


def add_remote(prefix: str, value: str | None) -> None:
    """Pass on another server's figures (e.g. the foreign NCPeH's) under ``<prefix>-<name>``."""
    stages = _STAGES.get()
    if stages is None or not value:
        return
    for name, ms in parse(value).items():
        key = f"{prefix}-{name}"
        stages[key] = stages.get(key, 0.0) + ms


def format_header(stages: dict[str, float]) -> str:
    return ", ".join(f"{name};dur={ms:.2f}" for name, ms in stages.items())


def init_app(app: Flask) -> None:
    """Register before the other ``after_request`` hooks (they run in reverse order), so that the
    audit write is inside ``app``."""

    @app.before_request
    def _start() -> None:
        g.server_timing_started = time.perf_counter()
        _STAGES.set({})

    @app.after_request
    def _header(resp: Response) -> Response:
        started = g.get("server_timing_started")
        if started is None or not app.config.get("NCPEH_SERVER_TIMING", True):
            return resp
        stages: dict[str, float] = dict(_STAGES.get() or {})
        stages["app"] = (time.perf_counter() - started) * 1000.0
        resp.headers[HEADER] = format_header(stages)
        return resp

    @app.teardown_request
    def _end(exc: BaseException | None = None) -> None:
        _STAGES.set(None)

