"""OAuth 2.0 client credentials for partner software (SMART Backend Services style token endpoint).

Access tokens are short-lived ES256 JWTs signed with this NCPeH's key; they are validated on
every call of the partner API.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time

import jwt
from flask import Blueprint, jsonify, request

from gateway import errors
from gateway.audit import trail as audit_trail
from gateway.runtime import runtime
from gateway.storage import get_store

bp = Blueprint("oauth", __name__)
TOKEN_LIFETIME = 300
SUPPORTED_SCOPES = ("system/Patient.read", "system/Patient.s", "system/Bundle.read", "system/AuditEvent.read")


def _oauth_error(error: str, description: str, status: int = 400, headers: dict | None = None):
    resp = jsonify({"error": error, "error_description": description})
    resp.status_code = status
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def _client_credentials() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        return (client_id, secret) if sep else None
    if request.form.get("client_id") and request.form.get("client_secret"):
        return request.form["client_id"], request.form["client_secret"]
    return None


@bp.post("/oauth/token")
def token():
    if not request.mimetype == "application/x-www-form-urlencoded":
        return _oauth_error("invalid_request", "Use application/x-www-form-urlencoded.")
    if request.form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "Only client_credentials is supported.")
    creds = _client_credentials()
    audit_trail.note(actor_id=creds[0] if creds else None)  # the client id, never the secret
    if creds is None:
        return _oauth_error("invalid_client", "Client authentication is required.", 401,
                            {"WWW-Authenticate": 'Basic realm="ncpeh"'})
    client = get_store().clients.verify_secret(*creds)
    if client is None:
        return _oauth_error("invalid_client", "Unknown client or wrong secret.", 401,
                            {"WWW-Authenticate": 'Basic realm="ncpeh"'})
    requested = request.form.get("scope", " ".join(client.scopes)).split()
    if not requested or any(scope not in client.scopes for scope in requested):
        return _oauth_error("invalid_scope", f"This client may ask for: {' '.join(client.scopes)}.")
    rt = runtime()
    now = int(time.time())
    claims = {
        "iss": rt.cfg.public.url,
        "aud": rt.cfg.public.url + "/fhir",
        "sub": client.client_id,
        "client_id": client.client_id,
        "scope": " ".join(requested),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME,
        "jti": secrets.token_hex(12),
    }
    access = jwt.encode(claims, rt.signing_key, algorithm="ES256", headers={"kid": rt.signing_kid, "typ": "at+jwt"})
    return jsonify({"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME,
                    "scope": claims["scope"]})


@bp.get("/.well-known/smart-configuration")
def smart_configuration():
    base = runtime().cfg.public.url
    return jsonify({
        "token_endpoint": f"{base}/oauth/token",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": list(SUPPORTED_SCOPES),
        "capabilities": ["client-confidential-symmetric"],
    })


def _verification_key(token: str):  # noqa: ANN202
    """This NCPeH's active key, or another of its keys that the trust list still publishes.

    During a signing-key rotation, instances running with the new key accept access tokens that an
    instance still running with the old key issued (and the other way round): no re-authentication.
    """
    rt = runtime()
    kid = jwt.get_unverified_header(token).get("kid")
    if kid == rt.signing_kid:
        return rt.signing_key.public_key()
    trust = rt.trust
    own = trust.country(rt.cfg.code) if trust else None
    key = own.signing_keys.get(kid) if own and isinstance(kid, str) else None
    if key is None:
        raise jwt.InvalidTokenError("unknown signing key")
    return key


def require_token(scope: str | None) -> dict:
    """Validate the bearer token of this request (and its scope, when given); returns its claims."""
    rt = runtime()
    header = request.headers.get("Authorization", "")
    challenge = 'Bearer realm="ncpeh", error="invalid_token"'
    if not header.startswith("Bearer "):
        raise errors.Unauthorized("A bearer token is required (see /.well-known/smart-configuration).",
                                  code="NO_TOKEN", headers={"WWW-Authenticate": 'Bearer realm="ncpeh"'})
    try:
        claims = jwt.decode(
            header[7:].strip(),
            _verification_key(header[7:].strip()),
            algorithms=["ES256"],
            audience=rt.cfg.public.url + "/fhir",
            issuer=rt.cfg.public.url,
            options={"require": ["exp", "iat", "sub", "scope"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise errors.Unauthorized("The access token has expired.", code="TOKEN_EXPIRED",
                                  headers={"WWW-Authenticate": challenge}) from None
    except jwt.PyJWTError:
        raise errors.Unauthorized("The access token is not valid here.", code="INVALID_TOKEN",
                                  headers={"WWW-Authenticate": challenge}) from None
    audit_trail.note(actor_id=claims["sub"])
    client = get_store().clients.get(claims["sub"])
    if client is None or not client.active:
        raise errors.Unauthorized("The client of this token is revoked.", code="CLIENT_REVOKED",
                                  headers={"WWW-Authenticate": challenge})
    if scope is not None and scope not in claims["scope"].split():
        raise errors.Forbidden(f"This call needs the scope {scope}.", code="INSUFFICIENT_SCOPE",
                               headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'})
    return claims
