"""Calls to foreign NCPeHs over mutual TLS, pinned to the trust list, with keep-alive connections.

Each trusted country gets its own ``requests.Session`` whose connections only accept a server
certificate issued by the demo CA *and* whose SHA-256 fingerprint the trust list gives to that
country. Proxy settings from the environment are ignored; every call has explicit timeouts.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool

from gateway import errors
from gateway.config import CountryConfig
from gateway.fhir import error_code
from gateway.security.pki import fingerprint
from gateway.security.tls import client_context
from gateway.security.trustlist import TrustedCountry

MAX_RESPONSE_BYTES = 20 * 1024 * 1024


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


class _PinnedAdapter(HTTPAdapter):
    def __init__(self, ctx: ssl.SSLContext, pins: frozenset[str], pool_size: int) -> None:
        self._ctx, self._pins = ctx, pins
        super().__init__(pool_connections=1, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):  # type: ignore[override]
        kwargs["ssl_context"] = self._ctx
        super().init_poolmanager(connections, maxsize, block=block, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            **self.poolmanager.pool_classes_by_scheme,
            "https": _pinned_pool(self._pins),
        }


@dataclass(frozen=True)
class PeerResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class PeerClient:
    """One per process; sessions are reused across requests (keep-alive to each peer)."""

    def __init__(self, cfg: CountryConfig, pool_size: int = 16) -> None:
        self.cfg = cfg
        self.pool_size = pool_size
        self._ctx: ssl.SSLContext | None = None
        self._sessions: dict[str, tuple[frozenset[str], requests.Session]] = {}
        self._lock = threading.Lock()

    def _session(self, country: TrustedCountry) -> requests.Session:
        with self._lock:
            pins = country.tls_fingerprints
            cached = self._sessions.get(country.code)
            if cached and cached[0] == pins:
                return cached[1]
            if self._ctx is None:
                self._ctx = client_context(self.cfg)
            session = requests.Session()
            session.trust_env = False  # no proxies or netrc from the environment
            session.verify = str(self.cfg.certs.ca_cert)
            session.mount("https://", _PinnedAdapter(self._ctx, pins, self.pool_size))
            session.mount("http://", HTTPAdapter(max_retries=0))  # never used: URLs are https
            if cached:
                cached[1].close()
            self._sessions[country.code] = (pins, session)
            return session

    def get(
        self,
        country: TrustedCountry,
        path: str,
        params: dict[str, str] | list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> PeerResponse:
        """GET ``path`` at the country's NCPeH; raise GatewayError for every failure."""
        url = country.ncp_url + path
        if not url.startswith("https://"):
            raise errors.PeerError(f"{country.code}: the trust list gives a non-HTTPS address")
        session = self._session(country)
        try:
            resp = session.get(
                url,
                params=params,
                headers={"Accept": "application/fhir+json", **(headers or {})},
                timeout=(self.cfg.peer_connect_timeout, self.cfg.peer_read_timeout),
                allow_redirects=False,
                stream=True,
            )
            body = resp.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
            resp.close()
        except (requests.ConnectTimeout, requests.ReadTimeout):
            raise errors.PeerTimeout(f"{country.name} ({country.code}) did not answer in time.") from None
        except requests.exceptions.SSLError:
            raise errors.PeerError(
                f"{country.name} ({country.code}): the secure channel could not be established.",
                code="PEER_TLS_FAILURE",
            ) from None
        except requests.RequestException:
            raise errors.PeerError(f"{country.name} ({country.code}) cannot be reached.") from None
        except Exception:  # urllib3 read errors surface as various types
            raise errors.PeerError(f"{country.name} ({country.code}) broke off the answer.") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise errors.PeerError(f"{country.name} ({country.code}) sent an answer that is too large.")
        result = PeerResponse(resp.status_code, dict(resp.headers), body)
        if resp.status_code >= 500:
            raise errors.PeerError(f"{country.name} ({country.code}) failed (HTTP {resp.status_code}).")
        if resp.status_code >= 400:
            raise _peer_refusal(country, result)
        return result


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
