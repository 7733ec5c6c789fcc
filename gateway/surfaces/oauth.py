"""OAuth 2.0 client credentials for partner software (SMART Backend Services token endpoint).

Clients authenticate at ``/oauth/token`` with a signed JWT assertion (``private_key_jwt``, SMART
Backend Services: ``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer``)
verified against the public keys registered for the client (``ncpeh clients set-key``), or with a
client secret (``client_secret_basic`` / ``client_secret_post``, the demo client). Access tokens are
short-lived ES256 JWTs signed with this NCPeH's key; they are validated on every call of the partner
API, which also spends one request of the client's rate-limit bucket (429 with ``Retry-After``).

Failed client authentications are throttled per source address and per submitted client id (known or
not: the same answer), checked before any secret or signature is verified: when either bucket of
failures is empty the request is refused (429, ``Retry-After``), the right secret too, until it refills.
A request may use one client-authentication method only (RFC 6749 §2.3): two answer 400.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from flask import Blueprint, Response, current_app, g, jsonify, request

from gateway import audit_trail, errors, timing
from gateway.audit import events
from gateway.fhir import outcome_response
from gateway.request_store import get_store
from gateway.runtime import runtime
from gateway.security import jwk, jws
from gateway.security.addresses import client_network
from gateway.security.principal import CLIENT, Principal
from gateway.storage.clients import Client
from gateway.storage.ratelimit import RateLimiter

bp = Blueprint("oauth", __name__)
TOKEN_LIFETIME = 300
SUPPORTED_SCOPES = ("system/Patient.read", "system/Patient.s", "system/Bundle.read", "system/AuditEvent.read")
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Algorithms accepted for client assertions (SMART Backend Services requires ES384 and RS384).
CLIENT_ASSERTION_ALGORITHMS = ("ES256", "ES384", "RS384")
#: A client assertion may be valid for at most this long (SMART: exp no more than 5 minutes ahead).
CLIENT_ASSERTION_MAX_LIFETIME = 300
CLOCK_SKEW = 30
MAX_ASSERTION_CHARS = 8192


F = TypeVar("F", bound=Callable[..., Any])


class OAuthError(errors.GatewayError):
    """An error of the token endpoint, answered as RFC 6749 §5.2 JSON (``error``, ``error_description``)."""

    def __init__(self, error: str, description: str, status: int = 400, headers: dict | None = None):
        super().__init__(description, code=error, headers=headers)
        self.status = status


def render_error(error: errors.GatewayError, request_id: str | None) -> Response:
    """This blueprint's renderer (registered by ``gateway.app.create_app``): the token endpoint's own
    errors in the format OAuth 2.0 requires; anything else (413, 405, 500) as on every API."""
    if not isinstance(error, OAuthError):
        return outcome_response(error, request_id)
    resp = jsonify({"error": error.code, "error_description": error.message})
    resp.status_code = error.status
    for key, value in error.headers.items():
        resp.headers[key] = value
    return resp


@dataclass(frozen=True)
class TokenRule:
    """What a view of a token-protected API needs: a valid access token, ``scope`` in it (when given),
    and on the partner API the clinician's assertion (``clinician``)."""

    scope: str | None = None
    clinician: bool = False


_TOKEN_RULE = "ncpeh_token_rule"
#: The rule of a view that declares none: a valid token (fail closed).
_DEFAULT_RULE = TokenRule()


def token_required(scope: str | None = None, *, clinician: bool = False) -> Callable[[F], F]:
    """Declare what a view needs; the blueprint's authentication hook checks it before the view runs."""
    def decorator(view: F) -> F:
        setattr(view, _TOKEN_RULE, TokenRule(scope, clinician))
        return view

    return decorator


def no_token(reason: str) -> Callable[[F], F]:
    """Declare a view of a token-protected API that answers without a token (``reason`` says why)."""
    if not reason.strip():
        raise ValueError("no_token needs a reason")

    def decorator(view: F) -> F:
        setattr(view, _TOKEN_RULE, None)
        return view

    return decorator


def token_rule() -> TokenRule | None:
    """The rule of this request's view (None: no token needed); Flask's automatic OPTIONS needs none."""
    rule = request.url_rule
    if request.method == "OPTIONS" and rule is not None and rule.provide_automatic_options:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, _TOKEN_RULE, _DEFAULT_RULE)


def authenticate() -> None:
    """Authentication of the token-protected APIs (terminology operations, patient portal), registered
    by ``gateway.app.create_app``: the caller's token, its client and the view's scope (``g.principal``)."""
    rule = token_rule()
    if rule is not None:
        require_token(rule.scope)


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


class ClientAuthError(Exception):
    """invalid_client, with a description for the partner's developers."""


def verify_client_assertion(assertion: str, claimed_client_id: str | None) -> Client:
    """SMART Backend Services client authentication: the client's JWT, signed with a registered key."""
    if len(assertion) > MAX_ASSERTION_CHARS:
        raise ClientAuthError("The client assertion is too long.")
    try:
        header = jws.get_unverified_header(assertion)
        unverified = jws.decode(assertion, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, UnicodeError):
        raise ClientAuthError("The client assertion is not a signed JWT.") from None
    alg = header.get("alg")
    if alg not in CLIENT_ASSERTION_ALGORITHMS:
        raise ClientAuthError(f"Client assertions must be signed with one of {', '.join(CLIENT_ASSERTION_ALGORITHMS)}.")
    client_id = unverified.get("iss")
    if not isinstance(client_id, str) or unverified.get("sub") != client_id:
        raise ClientAuthError("'iss' and 'sub' of the client assertion must both be the client_id.")
    if claimed_client_id and claimed_client_id != client_id:
        raise ClientAuthError("'client_id' does not match the client assertion's issuer.")
    audit_trail.note(actor_id=client_id)
    client = get_store().clients.get(client_id)
    if client is None or not client.active:
        raise ClientAuthError("Unknown or revoked client.")
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    key = jwk.find_key(client.jwks, kid, alg)
    if key is None:
        raise ClientAuthError("No public key registered for this client matches the assertion's 'kid' and 'alg' "
                              "(register one with 'ncpeh clients set-key').")
    token_url = runtime().cfg.public.url + "/oauth/token"
    try:
        claims = jws.decode(assertion, key, algorithms=[alg], audience=token_url, issuer=client_id,
                            options={"require": ["iss", "sub", "aud", "exp", "jti"]}, leeway=CLOCK_SKEW)
    except jwt.ExpiredSignatureError:
        raise ClientAuthError("The client assertion has expired.") from None
    except jwt.InvalidAudienceError:
        raise ClientAuthError(f"The client assertion's 'aud' must be the token endpoint {token_url}.") from None
    except jwt.PyJWTError:
        raise ClientAuthError("The client assertion's signature or claims do not verify.") from None
    now = time.time()
    if not isinstance(claims["exp"], int | float) or claims["exp"] > now + CLIENT_ASSERTION_MAX_LIFETIME + CLOCK_SKEW:
        raise ClientAuthError(f"The client assertion's 'exp' may be at most {CLIENT_ASSERTION_MAX_LIFETIME} s ahead.")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 8 <= len(jti) <= 256:
        raise ClientAuthError("The client assertion needs a 'jti' of 8 to 256 characters.")
    if not get_store().replay.remember(f"client:{client_id}", jti, "CLIENT", int(claims["exp"]) + CLOCK_SKEW):
        raise ClientAuthError("This client assertion was already used ('jti' replayed); sign a new one.")
    return client


def _authentication_methods() -> list[str]:
    """The client-authentication methods this request uses (RFC 6749 §2.3: at most one)."""
    methods = []
    if request.headers.get("Authorization", "").startswith("Basic "):
        methods.append("client_secret_basic")
    if "client_secret" in request.form:
        methods.append("client_secret_post")
    if "client_assertion" in request.form or "client_assertion_type" in request.form:
        methods.append("private_key_jwt")
    return methods


def _claimed_client_id() -> str:
    """The client id the request claims, before anything is verified (the key of its failure bucket)."""
    assertion = request.form.get("client_assertion")
    if assertion and len(assertion) <= MAX_ASSERTION_CHARS:
        try:
            issuer = jws.decode(assertion.strip(), options={"verify_signature": False}).get("iss")
        except (jwt.PyJWTError, ValueError, TypeError, UnicodeError, AttributeError):
            issuer = None
        if isinstance(issuer, str):
            return issuer
    creds = _client_credentials()
    return (creds[0] if creds else request.form.get("client_id")) or ""


def _failure_buckets() -> list[tuple[str, int]]:
    """(key, failures allowed at once and per minute) of this request's address and claimed client id."""
    cfg = runtime().cfg
    client_id = _claimed_client_id()[:200]
    network = client_network(request.remote_addr) or "-"  # an IPv6 client by its /64
    return [(f"token-failures:address:{network}", cfg.token_failures_per_address),
            (f"token-failures:client:{client_id}", cfg.token_failures_per_client)]


def _reserve(buckets: list[tuple[str, int]]) -> int:
    """Spend one failure of each bucket before the client is authenticated (so that concurrent attempts never
    check more secrets than the limits allow; :func:`_give_back` returns them when it succeeds). Seconds to
    wait when a bucket is empty (then nothing stays spent), else 0."""
    limiter = rate_limiter()
    decisions = [(key, limit, limiter.take(key, limit, limit)) for key, limit in buckets]
    wait = max((decision.retry_after for _, _, decision in decisions), default=0)
    if wait:
        _give_back([(key, limit) for key, limit, decision in decisions if decision.allowed])
    return wait


def _give_back(buckets: list[tuple[str, int]]) -> None:
    limiter = rate_limiter()
    for key, limit in buckets:
        limiter.give_back(key, limit)


def _authenticate_client() -> Client:
    """The client of this token request, by signed JWT assertion or by secret."""
    assertion_type = request.form.get("client_assertion_type")
    assertion = request.form.get("client_assertion")
    if assertion_type or assertion:
        if assertion_type != JWT_BEARER or not assertion:
            raise ClientAuthError(f"client_assertion_type must be {JWT_BEARER} with a client_assertion.")
        return verify_client_assertion(assertion.strip(), request.form.get("client_id"))
    creds = _client_credentials()
    audit_trail.note(actor_id=creds[0] if creds else None)  # the client id, never the secret
    if creds is None:
        raise ClientAuthError("Client authentication is required (private_key_jwt, or a client secret).")
    client = get_store().clients.verify_secret(*creds)
    if client is None:
        raise ClientAuthError("Unknown client or wrong secret.")
    return client


@bp.post("/oauth/token")
@audit_trail.audited(events.TOKEN)
def token():
    if not request.mimetype == "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Use application/x-www-form-urlencoded.")
    if request.form.get("grant_type") != "client_credentials":
        raise OAuthError("unsupported_grant_type", "Only client_credentials is supported.")
    methods = _authentication_methods()
    if len(methods) > 1:
        audit_trail.note(outcome_code="SEVERAL_AUTH_METHODS")
        raise OAuthError("invalid_request", f"Use one client authentication method per request, not {len(methods)} "
                                               f"({', '.join(methods)}).")
    buckets = _failure_buckets()
    wait = _reserve(buckets)
    if wait:
        audit_trail.note(outcome_code="RATE_LIMITED", actor_id=_claimed_client_id() or None)  # claimed, unverified
        raise OAuthError("temporarily_unavailable", f"Too many failed client authentications from this address or "
                            f"for this client; retry in {wait} s.", 429, {"Retry-After": str(wait)})
    try:
        client = _authenticate_client()
    except ClientAuthError as exc:  # the failure reserved above stays spent
        raise OAuthError("invalid_client", str(exc), 401, {"WWW-Authenticate": 'Basic realm="ncpeh"'}) from None
    _give_back(buckets)
    requested = request.form.get("scope", " ".join(client.scopes)).split()
    if not requested or any(scope not in client.scopes for scope in requested):
        raise OAuthError("invalid_scope", f"This client may ask for: {' '.join(client.scopes)}.")
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
@audit_trail.not_audited("public discovery document, the same for everyone")
def smart_configuration():
    base = runtime().cfg.public.url
    return jsonify({
        "issuer": base,
        "token_endpoint": f"{base}/oauth/token",
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic", "client_secret_post"],
        "token_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGORITHMS),
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["token"],
        "capabilities": ["client-confidential-asymmetric", "client-confidential-symmetric"],
    })


def _verification_key(token: str):  # noqa: ANN202
    """This NCPeH's active key, or another of its keys that the trust list still publishes.

    During a signing-key rotation, instances running with the new key accept access tokens that an
    instance still running with the old key issued (and the other way round): no re-authentication.
    """
    rt = runtime()
    kid = jws.get_unverified_header(token).get("kid")
    if kid == rt.signing_kid:
        return rt.signing_public_key
    trust = rt.trust
    own = trust.country(rt.cfg.code) if trust else None
    key = own.signing_keys.get(kid) if own and isinstance(kid, str) else None
    if key is None:
        raise jwt.InvalidTokenError("unknown signing key")
    return key


@timing.timed("auth")
def require_token(scope: str | None) -> dict:
    """Validate the bearer token of this request (its client, rate limit and scope, when given): the
    caller goes to ``g.principal``; returns the token's claims."""
    rt = runtime()
    header = request.headers.get("Authorization", "")
    challenge = 'Bearer realm="ncpeh", error="invalid_token"'
    if not header.startswith("Bearer "):
        raise errors.Unauthorized("A bearer token is required (see /.well-known/smart-configuration).",
                                  code="NO_TOKEN", headers={"WWW-Authenticate": 'Bearer realm="ncpeh"'})
    try:
        token = header[7:].strip()
        # the key is looked up on every call; the verification kept until exp (the client's revocation and
        # rate limit are checked on every call, below)
        claims = rt.verified_tokens.decode(
            token,
            _verification_key(token),
            algorithms=["ES256"],
            audience=rt.cfg.public.url + "/fhir",
            issuer=rt.cfg.public.url,
            require=["exp", "iat", "sub", "scope"],
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
    g.principal = Principal(CLIENT, client.client_id, frozenset(claims["scope"].split()), client=client)
    _rate_limit(client)
    if scope is not None and scope not in claims["scope"].split():
        raise errors.Forbidden(f"This call needs the scope {scope}.", code="INSUFFICIENT_SCOPE",
                               headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'})
    return claims


def rate_limiter() -> RateLimiter:
    """The app's limiter (its buckets are shared by every worker process, and on PostgreSQL by every replica)."""
    limiter = current_app.extensions.get("ncpeh_rate_limiter")
    if limiter is None:
        limiter = RateLimiter(runtime().cfg.ratelimit_database)
        current_app.extensions["ncpeh_rate_limiter"] = limiter
    return limiter


def _rate_limit(client: Client) -> None:
    """Spend one request of the client's bucket; 429 with Retry-After when it is empty."""
    cfg = runtime().cfg
    per_minute = client.rate_per_minute or cfg.rate_per_minute
    burst = min(cfg.rate_burst, per_minute) if client.rate_per_minute else cfg.rate_burst
    with timing.stage("rate-limit"):
        decision = rate_limiter().take(client.client_id, per_minute, burst)
    if not decision.allowed:
        raise errors.TooManyRequests(
            f"Too many requests for this client ({per_minute} per minute); retry in {decision.retry_after} s.",
            code="RATE_LIMITED", headers={"Retry-After": str(decision.retry_after)})
