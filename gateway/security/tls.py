"""TLS contexts for the two listeners and for calls to foreign NCPeHs."""

from __future__ import annotations

import ssl

from gateway.config import CountryConfig
from gateway.security.pki import PKIError, load_certificate, load_private_key

#: WSGI environ key of the DER certificate the client presented (set by ``gateway.server.worker``; None: none).
PEER_CERT_ENVIRON = "ncpeh.peer_cert"


def _load_chain(ctx: ssl.SSLContext, cert, key, password: str | None) -> None:
    for path in (cert, key):
        if not path.exists():
            raise PKIError(f"{path}: file not found (run 'ncpeh init-certs')")
    # cryptography explains a bad file or password precisely; OpenSSL would only say "PEM lib".
    load_certificate(cert)
    load_private_key(key, password)
    try:
        ctx.load_cert_chain(str(cert), str(key), password=password or None)
    except ssl.SSLError as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        if "BAD_DECRYPT" in str(reason) or "bad decrypt" in str(exc).lower():
            raise PKIError(f"{key}: wrong key password") from None
        raise PKIError(f"{cert} / {key}: unusable certificate or key ({reason})") from None
    except OSError as exc:
        raise PKIError(f"{cert}: cannot read ({exc.strerror})") from None


def _load_ca(ctx: ssl.SSLContext, cfg: CountryConfig) -> None:
    try:
        ctx.load_verify_locations(cafile=str(cfg.certs.ca_cert))
    except (ssl.SSLError, OSError) as exc:
        raise PKIError(f"{cfg.certs.ca_cert}: unusable CA certificate ({exc})") from None


def server_context(cfg: CountryConfig, listener: str) -> ssl.SSLContext:
    """Server-side context; the NCPeH listener requires a client certificate from the demo CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_chain(ctx, cfg.certs.server_cert, cfg.certs.server_key, cfg.key_password)
    if listener == "ncp":
        _load_ca(ctx, cfg)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def client_context(cfg: CountryConfig) -> ssl.SSLContext:
    """Client-side context for NCPeH-to-NCPeH calls: our client certificate, the demo CA as the only root."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    _load_ca(ctx, cfg)
    _load_chain(ctx, cfg.certs.client_cert, cfg.certs.client_key, cfg.key_password)
    return ctx
