"""Calls to foreign NCPeHs over mutual TLS, pinned to the trust list, with keep-alive connections.

Each trusted country gets its own urllib3 connection pool (no ``requests`` layer on this hot path)
whose connections only accept a server certificate issued by the demo CA *and* whose SHA-256
fingerprint the trust list gives to that country. Proxy settings from the environment are ignored
(urllib3 never reads them); every call has explicit timeouts.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
import urllib3
from urllib3 import exceptions as u3
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.util import parse_url

from gateway import errors, timing
from gateway.config import CountryConfig
from gateway.fhir import error_code
from gateway.security.pki import fingerprint
from gateway.security.tls import client_context
from gateway.security.trustlist import TrustedCountry

MAX_RESPONSE_BYTES = 20 * 1024 * 1024
RETRIES = 1
RETRY_BACKOFF = 0.1


def _pinned_pool(pins: frozenset[str]) -> type[HTTPSConnectionPool]:
    class PinnedConnection(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            der = self.sock.getpeercert(binary_form=True) if self.sock else None
            if not der or fingerprint(der) not in pins:
                self.close()
                raise ssl.SSLError("peer certificate is not the one the trust list gives this country")

    class PinnedPool(HTTPSConnectionPool):
        ConnectionCls = PinnedConnection

    return PinnedPool


def _pinned_pool_for(url: str, ctx: ssl.SSLContext, ca_cert: str, pins: frozenset[str],
                     pool_size: int) -> tuple[HTTPSConnectionPool, str]:
    """A keep-alive pool to the NCPeH at ``url`` whose connections check the CA (``ctx``), the host name
    and the pinned fingerprint, and the path prefix of ``url`` (calls go to the pool directly: no pool
    manager looking the host up again on every call)."""
    parsed = parse_url(url)
    pool = _pinned_pool(pins)(parsed.host, parsed.port or 443, maxsize=pool_size, block=False, ssl_context=ctx,
                              cert_reqs="CERT_REQUIRED", ca_certs=ca_cert, retries=False)
    return pool, (parsed.path or "").rstrip("/")


@dataclass(frozen=True)
class PeerResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        with timing.stage("parse"):
            return orjson.loads(self.body)


class PeerClient:
    """One per process; sessions are reused across requests (keep-alive to each peer)."""

    def __init__(self, cfg: CountryConfig, pool_size: int = 16) -> None:
        self.cfg = cfg
        self.pool_size = pool_size
        self._ctx: ssl.SSLContext | None = None
        self._sessions: dict[str, tuple[tuple[frozenset[str], str], HTTPSConnectionPool, str]] = {}
        self._lock = threading.Lock()
        self.breaker = CircuitBreaker()
        # a quarter of the threads (at least one) is kept for the other countries and the other pages;
        # a call still running after the connect time-out means the peer hangs
        self.bulkhead = Bulkhead(max(1, cfg.threads - max(1, cfg.threads // 4)), stuck_after=cfg.peer_connect_timeout)

    def _session(self, country: TrustedCountry) -> tuple[HTTPSConnectionPool, str]:
        """The pool to ``country``'s NCPeH and the path prefix of its address (a new pool when the trust
        list gives the country another address or other certificate fingerprints)."""
        with self._lock:
            pins, url = country.tls_fingerprints, country.ncp_url
            cached = self._sessions.get(country.code)
            if cached and cached[0] == (pins, url):
                return cached[1], cached[2]
            if self._ctx is None:
                self._ctx = client_context(self.cfg)
            pool, prefix = _pinned_pool_for(url, self._ctx, str(self.cfg.certs.ca_cert), pins, self.pool_size)
            if cached:
                cached[1].close()
            self._sessions[country.code] = ((pins, url), pool, prefix)
            return pool, prefix

    def get(
        self,
        country: TrustedCountry,
        path: str,
        params: dict[str, str] | list[tuple[str, str]] | None = None,
        headers: dict[str, str] | Callable[[], dict[str, str]] | None = None,
    ) -> PeerResponse:
        """GET ``path`` at the country's NCPeH; raise GatewayError for every failure.

        GETs are idempotent: a connection that fails before any answer (refused, reset, 502/503
        from a restarting peer) is retried once when the time budget allows. The whole call,
        retries and a slowly trickling body included, never takes longer than connect + read
        time-out. Repeated failures open the country's circuit breaker, so that a broken peer is
        answered at once instead of tying up threads; until it opens, a country's calls hold at most
        :attr:`bulkhead` ``.limit`` of the process's threads, so that a hanging peer never leaves the
        requests for other countries without a thread. ``headers`` may be a callable: it is called
        for every attempt, so that single-use assertions are fresh on a retry.
        """
        if not country.ncp_url.startswith("https://"):
            raise errors.PeerError(f"{country.code}: the trust list gives a non-HTTPS address")
        self.breaker.before_call(country)
        with self.bulkhead.slot(country):
            return self._call(country, path, params, headers)

    def _call(self, country: TrustedCountry, path: str, params, headers) -> PeerResponse:  # noqa: ANN001
        budget = self.cfg.peer_connect_timeout + self.cfg.peer_read_timeout
        deadline = time.monotonic() + budget
        attempt = 0
        while True:
            attempt += 1
            try:
                result = self._attempt(country, path, params, headers() if callable(headers) else headers, deadline)
            except _Retryable as exc:
                if attempt <= RETRIES and deadline - time.monotonic() > self.cfg.peer_connect_timeout:
                    time.sleep(RETRY_BACKOFF)
                    continue
                self.breaker.record_failure(country)
                raise exc.error from None
            except errors.GatewayError:
                self.breaker.record_failure(country)
                raise
            break
        if result.status >= 400:
            self.breaker.record_success(country)  # a clear refusal is a healthy peer
            raise _peer_refusal(country, result)
        self.breaker.record_success(country)
        return result

    @timing.timed("peer")
    def _attempt(self, country: TrustedCountry, path: str, params, headers, deadline: float) -> PeerResponse:  # noqa: ANN001
        name = f"{country.name} ({country.code})"
        pool, prefix = self._session(country)
        remaining = max(0.1, deadline - time.monotonic())
        url = prefix + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        try:
            resp = pool.urlopen(
                "GET",
                url,
                headers={"Accept": "application/fhir+json", **(headers or {})},
                timeout=urllib3.Timeout(connect=min(self.cfg.peer_connect_timeout, remaining),
                                        read=min(self.cfg.peer_read_timeout, remaining)),
                retries=False,  # the retry is ours (_call), within the time budget
                redirect=False,
                preload_content=False,
            )
        except u3.NewConnectionError:  # refused, unreachable (a subclass of ConnectTimeoutError)
            raise _Retryable(errors.PeerError(f"{name} cannot be reached.", code="PEER_UNREACHABLE")) from None
        except (u3.ConnectTimeoutError, u3.ReadTimeoutError):
            raise errors.PeerTimeout(f"{name} did not answer in time.") from None
        except u3.SSLError:
            raise errors.PeerError(f"{name}: the secure channel could not be established.",
                                   code="PEER_TLS_FAILURE") from None
        except (u3.ProtocolError, u3.ClosedPoolError, OSError):  # reset, closed, not HTTP
            raise _Retryable(errors.PeerError(f"{name} cannot be reached.", code="PEER_UNREACHABLE")) from None
        except (u3.HTTPError, ValueError):
            raise errors.PeerError(f"{name} cannot be reached.", code="PEER_UNREACHABLE") from None
        try:
            chunks, size = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise errors.PeerTimeout(f"{name} did not finish its answer in time.")
                chunk = resp.read1(65536, decode_content=True)  # returns what has arrived
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise errors.PeerError(f"{name} sent an answer that is too large.", code="PEER_BAD_ANSWER")
                chunks.append(chunk)
        except errors.GatewayError:
            raise
        except Exception:  # noqa: BLE001 - urllib3 read errors surface as various types
            raise errors.PeerTimeout(f"{name} did not finish its answer in time.") if time.monotonic() > deadline \
                else errors.PeerError(f"{name} broke off the answer.", code="PEER_BAD_ANSWER") from None
        finally:
            resp.close()
            resp.release_conn()
        result = PeerResponse(resp.status, dict(resp.headers), b"".join(chunks))
        timing.add_remote("peer", result.headers.get(timing.HEADER))  # the foreign side's own figures
        if resp.status in (502, 503):
            raise _Retryable(errors.PeerError(f"{name} is temporarily unavailable (HTTP {resp.status})."))
        if resp.status >= 500:
            raise errors.PeerError(f"{name} failed (HTTP {resp.status}).")
        return result

    def get_json(self, country: TrustedCountry, path: str, params=None, headers=None) -> Any:  # noqa: ANN001
        """Like :meth:`get`, for a JSON answer; garbage counts as a failure of the peer."""
        return self.json_of(country, self.get(country, path, params=params, headers=headers).body)

    def json_of(self, country: TrustedCountry, body: bytes) -> Any:
        """The answer ``body`` of ``country`` as JSON; garbage counts as a failure of the peer."""
        try:
            with timing.stage("parse"):
                return orjson.loads(body)
        except orjson.JSONDecodeError:
            self.breaker.record_failure(country)
            raise errors.PeerError(f"{country.name} ({country.code}) sent an unreadable answer.",
                                   code="PEER_BAD_ANSWER") from None


class _Retryable(Exception):
    def __init__(self, error: errors.GatewayError) -> None:
        self.error = error


class Bulkhead:
    """Per-country cap on the calls in flight (so on the threads a country's calls hold).

    A call that finds its country at the cap waits for a slot as long as the country's calls look
    healthy; once its oldest call in flight has been running for ``stuck_after`` seconds (the peer
    hangs: a healthy one answers within milliseconds), it is refused at once with ``PEER_BUSY``. The
    threads beyond the cap stay free for requests to other countries while a peer hangs, until its
    circuit breaker opens.
    """

    def __init__(self, limit: int, stuck_after: float) -> None:
        self.limit, self.stuck_after = limit, stuck_after
        self._started: dict[str, dict[object, float]] = {}
        self._changed = threading.Condition()

    @contextmanager
    def slot(self, country: TrustedCountry) -> Iterator[None]:
        token = object()
        with self._changed:
            started = self._started.setdefault(country.code, {})
            while len(started) >= self.limit:
                wait = min(started.values()) + self.stuck_after - time.monotonic()
                if wait <= 0:
                    raise errors.PeerError(
                        f"{country.name} ({country.code}) is not answering: {self.limit} requests are already "
                        "waiting for it; try again shortly.", code="PEER_BUSY", headers={"Retry-After": "2"})
                self._changed.wait(wait)
            started[token] = time.monotonic()
        try:
            yield
        finally:
            with self._changed:
                del started[token]
                self._changed.notify_all()


class CircuitBreaker:
    """Per-country breaker: after ``threshold`` consecutive failures, calls fail at once for
    ``reset_after`` seconds; then one trial call is let through (half-open)."""

    def __init__(self, threshold: int = 5, reset_after: float = 15.0) -> None:
        self.threshold, self.reset_after = threshold, reset_after
        self._failures: dict[str, int] = {}
        self._opened: dict[str, float] = {}
        self._lock = threading.Lock()

    def before_call(self, country: TrustedCountry) -> None:
        with self._lock:
            opened = self._opened.get(country.code)
            if opened is None:
                return
            wait = opened + self.reset_after - time.monotonic()
            if wait > 0:
                raise errors.PeerError(
                    f"{country.name} ({country.code}) is failing; new attempts in {wait:.0f} s.",
                    code="PEER_CIRCUIT_OPEN", headers={"Retry-After": str(max(1, round(wait)))},
                )
            self._opened[country.code] = time.monotonic()  # half-open: this caller is the trial

    def record_success(self, country: TrustedCountry) -> None:
        with self._lock:
            self._failures.pop(country.code, None)
            self._opened.pop(country.code, None)

    def record_failure(self, country: TrustedCountry) -> None:
        with self._lock:
            count = self._failures.get(country.code, 0) + 1
            self._failures[country.code] = count
            if count >= self.threshold:
                self._opened[country.code] = time.monotonic()

    def state(self, code: str) -> str:
        with self._lock:
            if code not in self._opened:
                return "closed"
            return "open" if self._opened[code] + self.reset_after > time.monotonic() else "half-open"


def _peer_refusal(country: TrustedCountry, resp: PeerResponse) -> errors.GatewayError:
    """Turn the foreign side's OperationOutcome into the same error class here, keeping its code."""
    cls = errors.BY_STATUS.get(resp.status, errors.PeerError)
    try:
        outcome = resp.json()
        text = str(outcome["issue"][0].get("diagnostics") or outcome["issue"][0]["details"]["text"])[:500]
        code = error_code(outcome)
    except Exception:  # noqa: BLE001 - garbage from the peer
        return errors.PeerError(f"{country.name} ({country.code}) answered HTTP {resp.status} without an explanation.")
    if resp.status == 401:
        cls = errors.PeerError  # the peer refused *us*: not the caller's credentials
    if resp.status == 403 and code == errors.ConsentRefused.code:
        cls = errors.ConsentRefused
    return cls(f"{country.code}: {text}", code=code or cls.code)
