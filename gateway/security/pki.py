"""Demo PKI: a root CA standing for the EU central services, and per country a TLS server
certificate, a TLS client certificate and an assertion-signing key.

Private keys are generated locally, written atomically with mode 0600 and never overwritten
unless ``force`` is given; certificates whose key already exists are reissued from that key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "Demo EU Central Services Root CA"
CA_DAYS = 3650
LEAF_DAYS = 397


class PKIError(Exception):
    """A certificate or key that cannot be read or used; the message names the file."""


@dataclass
class IssuedFile:
    path: Path
    action: str  # "created", "kept", "reissued"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write a file so that readers never see it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # a new file of a random name (O_EXCL): never a file or symlink someone left under a predictable name
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _encryption(password: str | None) -> serialization.KeySerializationEncryption:
    if password:
        return serialization.BestAvailableEncryption(password.encode())
    return serialization.NoEncryption()


def load_private_key(path: Path, password: str | None = None) -> ec.EllipticCurvePrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PKIError(f"{path}: cannot read private key ({exc.strerror})") from None
    try:
        key = serialization.load_pem_private_key(data, password.encode() if password else None)
    except TypeError:
        if password:
            raise PKIError(f"{path}: the key is not encrypted but a key password was given") from None
        raise PKIError(f"{path}: the key is encrypted; set NCPEH_KEY_PASSWORD") from None
    except ValueError:
        if password:
            raise PKIError(f"{path}: wrong key password or corrupt key") from None
        raise PKIError(f"{path}: not a readable PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PKIError(f"{path}: expected an EC private key")
    return key


def load_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PKIError(f"{path}: cannot read certificate ({exc.strerror})") from None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise PKIError(f"{path}: not a readable PEM certificate") from None


def fingerprint(cert: x509.Certificate | bytes) -> str:
    """SHA-256 fingerprint (lower-case hex) of a certificate or of its DER bytes."""
    der = cert if isinstance(cert, bytes) else cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def days_left(cert: x509.Certificate) -> int:
    return (cert.not_valid_after_utc - _now()).days


def _name(common_name: str, country: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ncpeh-gateway demo")]
    if country:
        attrs.insert(0, x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _ensure_key(path: Path, force: bool, password: str | None, out: list[IssuedFile]) -> tuple:
    if path.exists() and not force:
        out.append(IssuedFile(path, "kept"))
        return load_private_key(path, password), False
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _encryption(password))
    atomic_write(path, pem, 0o600)
    out.append(IssuedFile(path, "created"))
    return key, True


def _write_cert(path: Path, cert: x509.Certificate, new: bool, out: list[IssuedFile]) -> None:
    atomic_write(path, cert.public_bytes(serialization.Encoding.PEM))
    out.append(IssuedFile(path, "created" if new else "reissued"))


def _cert_matches(path: Path, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None) -> bool:
    """True when the existing certificate is for this key, from this issuer, and not near expiry."""
    if not path.exists():
        return False
    try:
        cert = load_certificate(path)
    except PKIError:
        return False
    same_key = cert.public_key().public_numbers() == key.public_key().public_numbers()
    same_issuer = issuer is None or cert.issuer == issuer.subject
    return same_key and same_issuer and days_left(cert) > 30


def ensure_ca(certs_dir: Path, force: bool = False, password: str | None = None) -> list[IssuedFile]:
    out: list[IssuedFile] = []
    key, new = _ensure_key(certs_dir / "ca" / "ca.key", force, password, out)
    cert_path = certs_dir / "ca" / "ca.crt"
    if not new and _cert_matches(cert_path, key, None):
        out.append(IssuedFile(cert_path, "kept"))
        return out
    name = _name(CA_NAME)
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_cert(cert_path, cert, new, out)
    return out


def _issue_leaf(
    path: Path,
    key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    hostnames: Iterable[str] = (),
    days: int = LEAF_DAYS,
) -> x509.Certificate:
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    sans: list[x509.GeneralName] = []
    for host in dict.fromkeys(hostnames):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def ensure_country(
    certs_dir: Path,
    code: str,
    hostnames: Iterable[str] = (),
    force: bool = False,
    password: str | None = None,
    days: int = LEAF_DAYS,
) -> list[IssuedFile]:
    """Create (or keep) the TLS server, TLS client and signing keys of one country."""
    ca_key = load_private_key(certs_dir / "ca" / "ca.key", password)
    ca_cert = load_certificate(certs_dir / "ca" / "ca.crt")
    slug = code.lower()
    folder = certs_dir / slug
    out: list[IssuedFile] = []
    hosts = ["localhost", "127.0.0.1", slug, f"ncpeh-{slug}", *hostnames]
    for kind, usage, names in (
        ("tls-server", ExtendedKeyUsageOID.SERVER_AUTH, hosts),
        ("tls-client", ExtendedKeyUsageOID.CLIENT_AUTH, ()),
    ):
        key, new = _ensure_key(folder / f"{kind}.key", force, password, out)
        cert_path = folder / f"{kind}.crt"
        if not new and _cert_matches(cert_path, key, ca_cert):
            out.append(IssuedFile(cert_path, "kept"))
            continue
        subject = _name(f"NCPeH {code.upper()} {kind}", code.upper())
        cert = _issue_leaf(cert_path, key, subject, usage, ca_key, ca_cert, names, days)
        _write_cert(cert_path, cert, new, out)
    key, new = _ensure_key(folder / "signing.key", force, password, out)
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pub_path = folder / "signing.pub"
    if new or not pub_path.exists() or pub_path.read_bytes() != pub:
        atomic_write(pub_path, pub)
        out.append(IssuedFile(pub_path, "created"))
    return out


def rotate_signing_key(certs_dir: Path, code: str, password: str | None = None) -> Path:
    """Create a new signing key beside the current one (``signing-<n>.key``) for rotation.

    The trust list then publishes both public keys; instances switch to the new key when
    their configuration names it, and the old one is dropped from the trust list later.
    """
    folder = certs_dir / code.lower()
    number = 2
    while (folder / f"signing-{number}.key").exists():
        number += 1
    key = ec.generate_private_key(ec.SECP256R1())
    path = folder / f"signing-{number}.key"
    atomic_write(
        path,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _encryption(password)),
        0o600,
    )
    atomic_write(
        path.with_suffix(".pub"),
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    )
    return path
