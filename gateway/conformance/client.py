"""The kit's side of the channel: settings, TLS contexts (one per kind of check) and plain HTTPS calls.

Every call opens its own connection with the context the check asks for, so that a check about the
handshake (no client certificate, another CA, an old protocol version) cannot reuse a channel that
another check opened. ``http.client`` is used directly: no proxy, no environment, no retries.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import socket
import ssl
import tempfile
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.config import KNOWN_TRAITS
from gateway.conformance.catalogue import Fail, Skip
from gateway.security.pki import PKIError, load_certificate, load_private_key

TRAITS = KNOWN_TRAITS
FHIR_JSON = "application/fhir+json"


class KitInputError(Exception):
    """Bad input or a target the kit cannot test: one line for the tester, non-zero exit."""


class TransportError(Exception):
    """The connection or the TLS handshake failed (the message says how)."""


@dataclass(frozen=True)
class Settings:
    target: str
    client_cert: Path
    client_key: Path
    ca: Path
    signing_key: Path
    country: str
    issuer: str
    audience: str
    search_mask: tuple[str, ...]
    mask_source: str
    patient: dict[str, str] = field(default_factory=dict)
    opposed_patient: dict[str, str] = field(default_factory=dict)
    calls: int = 10
    timeout: float = 10.0
    key_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def resource_type(self) -> str | None:
        data = self.json()
        return data.get("resourceType") if isinstance(data, dict) else None

    def outcome_codes(self) -> tuple[str, str] | None:
        """(issue[0].code, issue[0].details.coding[0].code or "") of an OperationOutcome, else None."""
        data = self.json()
        if not isinstance(data, dict) or data.get("resourceType") != "OperationOutcome":
            return None
        issues = data.get("issue")
        if not isinstance(issues, list) or not issues or not isinstance(issues[0], dict):
            return None
        code = issues[0].get("code")
        if not isinstance(code, str) or not code:
            return None
        coding = (issues[0].get("details") or {}).get("coding") or [{}]
        detail = coding[0].get("code") if isinstance(coding[0], dict) else None
        return code, detail if isinstance(detail, str) else ""

    def describe(self) -> str:
        codes = self.outcome_codes()
        if codes:
            return f"{self.status} OperationOutcome {codes[0]}" + (f"/{codes[1]}" if codes[1] else "")
        kind = self.resource_type()
        if kind:
            return f"{self.status} {kind}"
        return f"{self.status} {self.headers.get('content-type', 'no content type')}"


def parse_target(url: str) -> tuple[str, int, str]:
    """(host, port, base path) of ``https://HOST:PORT/fhir``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise KitInputError(f"--target {url!r}: give the NCPeH-to-NCPeH API's base as https://HOST:PORT/fhir")
    try:
        port = parts.port or 443
    except ValueError:
        raise KitInputError(f"--target {url!r}: the port is not a number") from None
    return parts.hostname, port, parts.path.rstrip("/")


def origin(url: str) -> str:
    host, port, _ = parse_target(url)
    return f"https://{host}:{port}"


def throwaway_client(folder: Path) -> tuple[Path, Path]:
    """A CA nobody trusts and a client certificate it issued (for 'a certificate from another CA')."""
    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ncpeh conformance kit: untrusted CA")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ncpeh conformance kit: untrusted client")])
    leaf = (x509.CertificateBuilder().subject_name(leaf_name).issuer_name(ca_name).public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = folder / "untrusted-client.crt", folder / "untrusted-client.key"
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return cert_path, key_path


def load_key(path: Path, password: str | None) -> ec.EllipticCurvePrivateKey:
    """A private key, decrypted with ``password`` only when it is encrypted (keys may differ in that)."""
    try:
        encrypted = b"ENCRYPTED" in path.read_bytes()
    except OSError:
        encrypted = False  # load_private_key says why it cannot be read
    return load_private_key(path, password if encrypted else None)


def check_materials(ca: Path, client_cert: Path, client_key: Path, password: str | None = None) -> None:
    """KitInputError naming the file when a certificate or key cannot be read."""
    for path, what in ((ca, "CA certificate"), (client_cert, "client certificate")):
        try:
            load_certificate(path)
        except PKIError as exc:
            raise KitInputError(f"{what}: {exc}") from None
    try:
        load_key(client_key, password)
    except PKIError as exc:
        raise KitInputError(f"client key: {exc}") from None


class Channel:
    """TLS contexts and HTTPS calls to the target."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.host, self.port, self.base = parse_target(settings.target)
        check_materials(settings.ca, settings.client_cert, settings.client_key, settings.key_password)
        self._contexts: dict[str, ssl.SSLContext] = {}
        self.default = self.context("default")

    def context(self, kind: str) -> ssl.SSLContext:
        """``default`` (client certificate, TLS 1.2+), ``no-cert``, ``other-ca``, ``TLSv1`` or ``TLSv1_1``."""
        if kind in self._contexts:
            return self._contexts[kind]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        try:
            ctx.load_verify_locations(cafile=str(self.settings.ca))
        except (ssl.SSLError, OSError) as exc:
            raise KitInputError(f"{self.settings.ca}: unusable CA certificate ({exc})") from None
        if kind in ("TLSv1", "TLSv1_1"):
            with warnings.catch_warnings():  # deprecated on purpose: the check is that the target refuses them
                warnings.simplefilter("ignore", DeprecationWarning)
                version = getattr(ssl.TLSVersion, kind)
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
                ctx.minimum_version = version
                ctx.maximum_version = version
        else:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if kind == "other-ca":
            with tempfile.TemporaryDirectory(prefix="ncpeh-kit-") as folder:
                cert, key = throwaway_client(Path(folder))
                ctx.load_cert_chain(str(cert), str(key))
        elif kind != "no-cert":
            try:
                ctx.load_cert_chain(str(self.settings.client_cert), str(self.settings.client_key),
                                    password=self.settings.key_password or None)
            except (ssl.SSLError, OSError) as exc:
                raise KitInputError(f"{self.settings.client_cert} / {self.settings.client_key}: "
                                    f"unusable client certificate or key ({exc})") from None
        self._contexts[kind] = ctx
        return ctx

    def url(self, path: str) -> str:
        return f"https://{self.host}:{self.port}{self.base}{path}"

    def request(self, path: str, params: dict[str, str] | list[tuple[str, str]] | None = None,
                headers: dict[str, str] | None = None, context: str = "default", method: str = "GET") -> Response:
        """One call on a new connection; TransportError when the connection or handshake fails."""
        query = urllib.parse.urlencode(params or {})
        target = self.base + path + (f"?{query}" if query else "")
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.context(context),
                                           timeout=self.settings.timeout)
        started = time.perf_counter()
        try:
            conn.request(method, target, headers={"Accept": FHIR_JSON, **(headers or {})})
            resp = conn.getresponse()
            body = resp.read()
            elapsed = time.perf_counter() - started
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body, elapsed)
        except ssl.SSLError as exc:
            raise TransportError(f"TLS: {exc.reason or exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
        finally:
            conn.close()

    def handshake(self, context: str) -> str:
        """A bare handshake with ``context``; returns the protocol negotiated (TransportError when refused)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=self.settings.timeout) as raw:
                with self.context(context).wrap_socket(raw, server_hostname=self.host) as tls:
                    return tls.version() or "unknown"
        except ssl.SSLError as exc:
            raise TransportError(f"TLS: {exc.reason or exc}") from None
        except OSError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from None


def expect_refusal(resp: Response, statuses: tuple[int, ...], what: str) -> str:
    """Pass detail when ``resp`` is a refusal with one of ``statuses`` and an OperationOutcome with a code."""
    if 200 <= resp.status < 300:
        raise Fail(f"{what} was accepted ({resp.describe()})")
    if resp.status not in statuses:
        raise Fail(f"{what}: expected {' or '.join(map(str, statuses))}, got {resp.describe()}")
    if resp.outcome_codes() is None:
        raise Fail(f"{what}: refused with {resp.status} but not with an OperationOutcome carrying an issue code")
    return f"{what}: refused, {resp.describe()}"


def need_patient(settings: Settings) -> dict[str, str]:
    if not settings.patient:
        raise Skip("no patient given (--patient TRAIT=VALUE …)")
    return dict(settings.patient)
