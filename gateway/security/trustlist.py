"""The signed trust list: which NCPeHs exist, where they are, and which keys and certificates are theirs.

The demo central CA signs the list as a compact JWS (ES256). Every instance verifies it at start-up
and on reload, and refuses a list that is tampered, expired, wrongly signed or malformed (fail closed).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from gateway.config import CountryConfig
from gateway.security.jwk import ALGORITHM, key_id, public_jwk
from gateway.security.pki import PKIError, atomic_write, fingerprint, load_certificate, load_private_key
from gateway.security.trust_sequence import SequenceState, SequenceStateError

log = logging.getLogger("ncpeh.trust")

ISSUER = "urn:ncpeh-demo:eu-central-services"
DEFAULT_DAYS = 30


class TrustListError(Exception):
    """The trust list is missing, malformed, tampered, expired or wrongly signed.

    ``code`` is what unauthenticated callers may see (``/_status``); the message names files and is for
    operators (log, command line).
    """

    def __init__(self, message: str, code: str = "TRUST_LIST_INVALID") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TrustedCountry:
    code: str
    name: str
    ncp_url: str
    public_url: str
    languages: tuple[str, ...]
    identifier_system: str
    identifier_scheme: str
    identifier_label: str
    search_mask: tuple[str, ...]
    tls_fingerprints: frozenset[str]
    signing_keys: dict[str, ec.EllipticCurvePublicKey] = field(hash=False, compare=False)

    def public_summary(self) -> dict[str, Any]:
        """The country's public description: code, name, languages, identifier, search mask (``ncpeh trust-list
        show`` prints it with the country's URL, certificate fingerprints and signing keys)."""
        return {
            "code": self.code,
            "name": self.name,
            "languages": list(self.languages),
            "identifier": {
                "system": self.identifier_system,
                "scheme": self.identifier_scheme,
                "label": self.identifier_label,
            },
            "search_mask": list(self.search_mask),
        }


@dataclass(frozen=True)
class TrustList:
    issued_at: dt.datetime
    expires_at: dt.datetime
    sequence: int
    countries: dict[str, TrustedCountry]
    fingerprint_index: dict[str, str]

    def country(self, code: str) -> TrustedCountry | None:
        return self.countries.get(code.upper())

    def country_for_certificate(self, der: bytes) -> TrustedCountry | None:
        """Map a TLS certificate (DER) to exactly one trusted country, or None."""
        code = self.fingerprint_index.get(fingerprint(der))
        return self.countries.get(code) if code else None

    def days_left(self) -> int:
        return (self.expires_at - dt.datetime.now(dt.UTC)).days


def _country_entry(cfg: CountryConfig) -> dict[str, Any]:
    folder = cfg.certs_dir / cfg.slug
    prints = sorted(
        fingerprint(load_certificate(folder / name)) for name in ("tls-server.crt", "tls-client.crt")
    )
    keys = []
    for pub_path in sorted(folder.glob("signing*.pub")):
        pub = serialization.load_pem_public_key(pub_path.read_bytes())
        if not isinstance(pub, ec.EllipticCurvePublicKey):
            raise TrustListError(f"{pub_path}: not an EC public key")
        keys.append(public_jwk(pub))
    if not keys:
        raise TrustListError(f"{folder}: no signing public key (run 'ncpeh init-certs')")
    return {
        "code": cfg.code,
        "name": cfg.name,
        "ncp_url": cfg.ncp.url,
        "public_url": cfg.public.url,
        "languages": list(cfg.languages),
        "identifier": {
            "system": cfg.identifier.system,
            "scheme": cfg.identifier.scheme,
            "label": cfg.identifier.label,
        },
        "search_mask": list(cfg.identifier.search_mask),
        "tls_fingerprints": prints,
        "signing_keys": keys,
    }


def build(
    configs: Iterable[CountryConfig],
    certs_dir: Path,
    output: Path,
    days: int = DEFAULT_DAYS,
    key_password: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Sign a trust list naming the given countries with the central CA key and write it."""
    configs = list(configs)
    codes = [cfg.code for cfg in configs]
    duplicates = {code for code in codes if codes.count(code) > 1}
    if duplicates:
        raise TrustListError(f"country code(s) listed twice: {', '.join(sorted(duplicates))}")
    ca_key = load_private_key(certs_dir / "ca" / "ca.key", key_password)
    now = now or dt.datetime.now(dt.UTC)
    previous = 0
    if output.exists():
        try:
            previous = int(jwt.decode(output.read_text(), options={"verify_signature": False}).get("seq", 0))
        except (jwt.PyJWTError, ValueError, TypeError):
            previous = 0
    for cfg in configs:  # a lost list file is re-signed above the sequence these countries already accepted
        try:
            previous = max(previous, SequenceState.for_data_dir(cfg.data_dir).highest())
        except SequenceStateError:
            continue
    payload = {
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()) - 60,
        "exp": int((now + dt.timedelta(days=days)).timestamp()),
        "seq": previous + 1,
        "countries": [_country_entry(cfg) for cfg in configs],
    }
    token = jwt.encode(payload, ca_key, algorithm=ALGORITHM, headers={"kid": key_id(ca_key.public_key())})
    atomic_write(output, token.encode())
    return payload


def _parse_country(entry: dict[str, Any]) -> TrustedCountry:
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    for jwk in entry["signing_keys"]:
        pub = ECAlgorithm.from_jwk(json.dumps(jwk))
        if not isinstance(pub, ec.EllipticCurvePublicKey):
            raise TrustListError(f"country {entry.get('code')}: signing key is not a public EC key")
        keys[key_id(pub)] = pub
    ident = entry["identifier"]
    return TrustedCountry(
        code=str(entry["code"]).upper(),
        name=str(entry["name"]),
        ncp_url=str(entry["ncp_url"]).rstrip("/"),
        public_url=str(entry.get("public_url", "")).rstrip("/"),
        languages=tuple(entry["languages"]),
        identifier_system=str(ident["system"]),
        identifier_scheme=str(ident["scheme"]),
        identifier_label=str(ident.get("label", ident["scheme"])),
        search_mask=tuple(entry["search_mask"]),
        tls_fingerprints=frozenset(str(fp).lower() for fp in entry["tls_fingerprints"]),
        signing_keys=keys,
    )


def verify(path: Path, ca_cert_path: Path) -> TrustList:
    """Read and verify the trust list; raise :class:`TrustListError` on any doubt."""
    try:
        token = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise TrustListError(f"{path}: trust list not found (run 'ncpeh trust-list build')",
                             "TRUST_LIST_MISSING") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustListError(f"{path}: cannot read trust list ({exc})") from None
    ca_key = load_certificate(ca_cert_path).public_key()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise TrustListError(f"{path}: algorithm {header.get('alg')!r} refused (only {ALGORITHM})")
        payload = jwt.decode(
            token,
            ca_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "countries"]},
            leeway=60,
        )
    except jwt.ExpiredSignatureError:
        raise TrustListError(f"{path}: trust list has expired", "TRUST_LIST_EXPIRED") from None
    except jwt.InvalidSignatureError:
        raise TrustListError(f"{path}: signature does not verify against {ca_cert_path}") from None
    except jwt.PyJWTError as exc:
        raise TrustListError(f"{path}: invalid trust list ({exc})") from None
    try:
        countries = {c.code: c for c in (_parse_country(e) for e in payload["countries"])}
    except (KeyError, TypeError, ValueError, jwt.PyJWTError) as exc:
        raise TrustListError(f"{path}: malformed country entry ({exc!r})") from None
    index: dict[str, str] = {}
    for country in countries.values():
        for fp in country.tls_fingerprints:
            if index.setdefault(fp, country.code) != country.code:
                raise TrustListError(f"{path}: certificate {fp[:16]}... claimed by two countries")
    return TrustList(
        issued_at=dt.datetime.fromtimestamp(payload["iat"], dt.UTC),
        expires_at=dt.datetime.fromtimestamp(payload["exp"], dt.UTC),
        sequence=int(payload.get("seq", 0)),
        countries=countries,
        fingerprint_index=index,
    )


def load_signing_key(cfg: CountryConfig) -> tuple[str, ec.EllipticCurvePrivateKey]:
    key = load_private_key(cfg.certs.signing_key, cfg.key_password)
    return key_id(key.public_key()), key


class TrustState:
    """The verified trust list of a running instance, re-verified whenever the file changes.

    A list that fails verification on reload is not used: cross-border calls stop (fail closed)
    until a valid list is in place again. A failed verification is tried again every
    :attr:`RETRY_AFTER` seconds even if the file does not change (a list signed by a clock slightly
    ahead becomes valid by itself). A list whose sequence number is lower than the highest one accepted
    is refused (no rollback to an older signed list): the newer list stays in use. With ``sequence``,
    the highest sequence is also recorded on disk for the country, so that it holds across restarts and
    for every instance (``ncpeh trust-list accept`` may lower it; instances take that at their next
    start). One thread verifies at a time, so that a slow verification of an older file never replaces
    the result for a newer one.
    """

    RETRY_AFTER = 10.0

    def __init__(self, path: Path, ca_cert: Path, sequence: SequenceState | None = None) -> None:
        self.path, self.ca_cert, self.sequence_state = path, ca_cert, sequence
        self._stamp: tuple[int, int, int] | None = None
        self._list: TrustList | None = None
        self._failed_at = 0.0
        self._highest_sequence = -1
        self._lock = threading.Lock()
        self.error: str | None = None
        #: What /_status may show of ``error`` (no file names): TRUST_LIST_MISSING, _EXPIRED, _INVALID,
        #: _OLDER_SEQUENCE or _SEQUENCE_UNREADABLE.
        self.error_code: str | None = None
        self._started = False  # a refusal at start-up is the caller's one error line, not also a log line
        self.current()
        self._started = True
        if self.error:
            raise TrustListError(self.error, self.error_code or "TRUST_LIST_INVALID")

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> TrustList | None:
        with self._lock:
            stamp = self._file_stamp()
            failed = self._list is None and time.monotonic() - self._failed_at >= self.RETRY_AFTER
            if stamp != self._stamp or stamp is None or failed:
                self._stamp = stamp
                self._reload()
            if self._list is not None and self._list.expires_at <= dt.datetime.now(dt.UTC):
                self._list, self.error = None, f"{self.path}: trust list has expired"
                self.error_code = "TRUST_LIST_EXPIRED"
                self._failed_at = time.monotonic()
            return self._list

    def _fail(self, message: str, code: str) -> None:
        self._list, self.error, self.error_code, self._failed_at = None, message, code, time.monotonic()
        if self._started:
            log.error("trust list: %s", message)

    def _reload(self) -> None:
        try:
            candidate = verify(self.path, self.ca_cert)
        except TrustListError as exc:
            self._fail(str(exc), exc.code)
            return
        except Exception as exc:  # noqa: BLE001 - any doubt means no trust
            self._fail(f"{self.path}: {exc}", "TRUST_LIST_INVALID")
            return
        try:
            recorded = self.sequence_state.highest() if self.sequence_state else -1
        except SequenceStateError as exc:
            self._fail(str(exc), "TRUST_LIST_SEQUENCE_UNREADABLE")
            return
        highest = max(self._highest_sequence, recorded)
        if candidate.sequence < highest:
            self.error = (f"{self.path}: refused list sequence {candidate.sequence}, older than sequence "
                          f"{highest} already in use (sign a new list to replace it, or accept this one "
                          "with 'ncpeh trust-list accept')")
            self.error_code = "TRUST_LIST_OLDER_SEQUENCE"
            if self._started:
                log.error("trust list: %s", self.error)
            if self._list is None:
                self._failed_at = time.monotonic()
            return  # the newer list in memory, if any, stays in use
        if self.sequence_state:
            try:
                self.sequence_state.raise_to(candidate.sequence)
            except OSError as exc:
                self._fail(f"{self.sequence_state.path}: cannot record the trust list sequence ({exc.strerror})",
                           "TRUST_LIST_SEQUENCE_UNREADABLE")
                return
        self._list, self.error, self.error_code, self._highest_sequence = candidate, None, None, candidate.sequence


def is_current(configs: Iterable[CountryConfig], path: Path, ca_cert_path: Path, min_days: int = 7,
               allow_extra: bool = False) -> bool:
    """True when ``path`` holds a valid list, valid ``min_days`` more, naming these countries exactly as
    :func:`build` would describe them now (same URLs, certificates, keys); then it need not be re-signed.
    With ``allow_extra``, other countries the list names do not make it outdated."""
    try:
        verify(path, ca_cert_path)
        payload = jwt.decode(path.read_text(encoding="ascii").strip(), options={"verify_signature": False})
    except (TrustListError, jwt.PyJWTError, OSError, UnicodeDecodeError):
        return False
    if payload["exp"] - dt.datetime.now(dt.UTC).timestamp() < min_days * 86400:
        return False
    try:
        wanted = {entry["code"]: entry for entry in (_country_entry(cfg) for cfg in configs)}
        listed = {entry["code"]: entry for entry in payload["countries"]}
    except (TrustListError, PKIError, KeyError, TypeError, OSError, ValueError):
        return False
    if allow_extra:
        return all(listed.get(code) == entry for code, entry in wanted.items())
    return wanted == listed
