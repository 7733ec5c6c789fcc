"""Application factory: one instance = one country; one app per listener (public or NCPeH-to-NCPeH)."""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from gateway import audit_trail, errors, request_store, storage, timing
from gateway.audit import events
from gateway.build_info import version
from gateway.config import CountryConfig
from gateway.fhir import outcome_response
from gateway.runtime import Runtime, runtime
from gateway.security.pki import atomic_write
from gateway.security.trust_sequence import SequenceState
from gateway.security.trustlist import TrustListError, TrustState, load_signing_key
from gateway.services import accounts
from gateway.services.peers import PeerClient
from gateway.services.terminology import instance_terminology
from gateway.surfaces import (
    ncp_api,
    oauth,
    openapi,
    partner_api,
    patient_portal,
    portal,
    portal_original,  # noqa: F401 - its routes join the portal's blueprint
    status,
    terminology_api,
)

__all__ = ["API_PATHS", "create_app", "is_api_path", "register_api", "render_error", "version"]

SURFACES = ("public", "ncp")
MAX_BODY_BYTES = 5 * 1024 * 1024
#: The machine-facing paths of the public listener (FHIR APIs, OAuth, discovery, status, the patient
#: portal's access history): they never use the portal's cookie session and their errors are always
#: OperationOutcomes. A path is theirs when it is one of them or lies below one.
API_PATHS = ("/fhir", "/oauth", "/.well-known", "/openapi.json", "/_status", "/patient-portal")


def is_api_path(path: str, prefixes: tuple[str, ...] = API_PATHS) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
log = logging.getLogger("ncpeh")


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer built once per secret key.

    Flask opens the session of every request (API calls included) and builds a new serializer each
    time; the serializer holds no per-request state, so one per key (and fallback keys) serves all.
    """

    def __init__(self, stateless: tuple[str, ...] = API_PATHS) -> None:
        self._serializer: tuple[tuple, object] | None = None
        #: Path prefixes without a session (machine-facing APIs): the session cookie is neither read
        #: nor written there, and ``flask.session`` is Flask's null session.
        self.stateless = stateless

    def open_session(self, app: Flask, request):  # noqa: ANN001, ANN201 - Flask's signature
        if is_api_path(request.path, self.stateless):
            return None  # Flask then uses its null session, never saved
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask):  # noqa: ANN201 - itsdangerous serializer or None
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or ()
        key = (app.secret_key, tuple(fallbacks) if isinstance(fallbacks, list | tuple) else fallbacks)
        cached = self._serializer
        if cached is None or cached[0] != key:
            cached = self._serializer = (key, super().get_signing_serializer(app))
        return cached[1]


def _secret_key(cfg: CountryConfig) -> str:
    if cfg.secret_key:
        return cfg.secret_key
    path = cfg.data_dir / "secret_key"
    if not path.exists():
        atomic_write(path, secrets.token_hex(32).encode(), 0o600)
    return path.read_text().strip()


def _seal_plaintext_totp_secrets(cfg: CountryConfig) -> None:
    """TOTP secrets a database made before sealing holds in clear are sealed at start-up."""
    store = storage.open_store(cfg.database, migrate=False)
    try:
        accounts.seal_plaintext_totp_secrets(store.users, cfg)
    finally:
        store.close()


def create_app(cfg: CountryConfig, surface: str = "public") -> Flask:
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {SURFACES}, got {surface!r}")
    app = Flask(__name__)
    app.config.update(
        NCPEH=cfg,
        SECRET_KEY=_secret_key(cfg),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME=f"ncpeh_{cfg.slug}_session",
        TESTING=cfg.testing,
        NCPEH_SERVER_TIMING=cfg.server_timing,  # the Server-Timing header (gateway.timing): off by default
    )
    # the NCPeH listener has no session at all: "" is a prefix of every path
    app.session_interface = _SessionInterface(("",) if surface == "ncp" else API_PATHS)
    kid, key = load_signing_key(cfg)
    trust_state = TrustState(cfg.trust_list, cfg.certs.ca_cert, SequenceState.for_data_dir(cfg.data_dir))
    listed = trust_state.current()
    if listed is None or cfg.code not in listed.countries:
        raise TrustListError(
            f"{cfg.trust_list}: field 'countries' does not list {cfg.code} (setting 'code' of {cfg.source}); "
            f"rebuild it with 'ncpeh trust-list build --countries <every country, {cfg.code} included>'")
    app.extensions["ncpeh"] = Runtime(
        cfg=cfg,
        surface=surface,
        trust_state=trust_state,
        peers=PeerClient(cfg, pool_size=max(4, cfg.threads * 2)),
        signing_kid=kid,
        signing_key=key,
        terminology=instance_terminology(cfg.data_dir),
    )
    request_store.init_app(app)
    if surface == "public":
        _seal_plaintext_totp_secrets(cfg)
    timing.init_app(app)  # first: its after_request hook runs last (audit write included)
    _register_request_id(app, surface)
    _register_error_rendering(app)
    audit_trail.init_app(app)  # one audit record per call of the FHIR APIs, committed before answering

    app.register_blueprint(status.bp)
    if surface == "ncp":
        # every call of another NCPeH is recorded
        register_api(app, ncp_api.bp, authenticate=ncp_api.authenticate_peer,
                     audit=audit_trail.BlueprintRule(side=events.RESPONDING, actor_type=events.ACTOR_NCPEH))
    else:
        register_api(app, oauth.bp, audit=audit_trail.BlueprintRule(), render=oauth.render_error)
        app.register_blueprint(openapi.bp)  # /openapi.json: the partner API's OpenAPI 3.1 description
        # before partner_api: its catch-all /fhir/<path> must not hide the terminology operations
        register_api(app, terminology_api.bp, authenticate=oauth.authenticate,
                     audit=audit_trail.BlueprintRule(refusals=audit_trail.AUTH_REFUSALS))  # no patient data
        register_api(app, partner_api.bp, authenticate=partner_api.authenticate,
                     audit=audit_trail.BlueprintRule(side=events.REQUESTING))  # every refusal too
        app.register_blueprint(portal.bp)
        portal.init_app(app)  # interface languages (Flask-Babel) and CSRF protection of its forms
        register_api(app, patient_portal.bp, authenticate=oauth.authenticate, audit=audit_trail.BlueprintRule())
    app.extensions["ncpeh"].log_weaknesses()
    return app


Renderer = Callable[[errors.GatewayError, "str | None"], Response]


def register_api(app: Flask, bp: Blueprint, *, audit: audit_trail.BlueprintRule,
                 authenticate: Callable[[], None] | None = None, render: Renderer | None = None) -> None:
    """Register an API blueprint with its authentication, its error rendering and its audit, in one place.

    ``authenticate`` runs before each of its views (after the request id is assigned) and puts the caller
    in ``g.principal``; ``render`` renders its errors (default: the FHIR OperationOutcome of every API);
    ``audit`` is its rule for refusals, and every one of its views must declare its audit event
    (``trail.audited`` / ``trail.not_audited``): otherwise this raises and the app does not start.
    """
    app.register_blueprint(bp)
    audit_trail.register_blueprint_rule(app, bp.name, audit)
    if render is not None:
        app.extensions.setdefault("ncpeh_renderers", {})[bp.name] = render
    if authenticate is not None:
        def authenticate_caller() -> None:
            if request.blueprint == bp.name:
                authenticate()

        app.before_request(authenticate_caller)


def _register_request_id(app: Flask, surface: str) -> None:
    """Every call has a request id (``g.request_id``, the response's ``X-Request-ID``, its audit record's).

    On the NCPeH listener it is the calling NCPeH's exchange id (the same on both sides of an exchange).
    On the public listener this NCPeH makes its own for every call: a partner's ``X-Request-ID`` could be
    reused for several exchanges, so it is only recorded beside (``partner_request_id`` of the audit detail).
    """

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        valid = bool(_REQUEST_ID.match(incoming))
        if surface == "ncp" and valid:
            g.request_id = incoming
            return
        g.request_id = str(uuid.uuid4())
        if valid:
            audit_trail.note(detail={"partner_request_id": incoming})

    @app.after_request
    def add_headers(resp):
        resp.headers["X-Request-ID"] = getattr(g, "request_id", "")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Cache-Control", "no-store")
        resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        resp.headers["Server"] = "ncpeh-gateway"
        return resp


_HTTP_TO_ERROR = {
    404: errors.NotFound("No such endpoint.", code="NO_SUCH_ENDPOINT"),
    413: errors.PayloadTooLarge(),
}


def render_error(error: errors.GatewayError) -> Response | tuple:
    """Portal pages get HTML; an API blueprint gets its registered renderer; every other surface the
    FHIR OperationOutcome (:func:`gateway.fhir.outcome_response`)."""
    request_id = getattr(g, "request_id", None)
    audit_trail.note_error(error.code)
    if request.blueprint == portal.bp.name:
        return portal.render_error(error, request_id)
    if _lost_browser():
        body, status_code, headers = portal.render_error(error, request_id)
        return portal.security_headers(Response(body, status=status_code, headers=headers, mimetype="text/html"))
    render = current_app.extensions.get("ncpeh_renderers", {}).get(request.blueprint or "", outcome_response)
    return render(error, request_id)


def _lost_browser() -> bool:
    """A browser on an unknown address of the public listener (outside the APIs) gets a portal page."""
    if request.blueprint is not None or runtime().surface != "public":
        return False
    if is_api_path(request.path):
        return False
    accept = request.accept_mimetypes
    return accept.quality("text/html") > max(accept.quality("application/fhir+json"), accept.quality("application/json"))


def _register_error_rendering(app: Flask) -> None:
    @app.errorhandler(errors.GatewayError)
    def on_gateway_error(error: errors.GatewayError):
        return render_error(error)

    @app.errorhandler(storage.DatabaseUnavailable)
    def on_database_unavailable(exc: storage.DatabaseUnavailable):
        # PostgreSQL lost while serving: nothing was committed half-way; a later request may succeed.
        log.warning("database unavailable (request id %s): %s", getattr(g, "request_id", "-"), exc)
        return render_error(errors.ServiceUnavailable("The database is not available; try again shortly.",
                                                      code="DATABASE_UNAVAILABLE", headers={"Retry-After": "5"}))

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException):
        error = _HTTP_TO_ERROR.get(exc.code or 500)
        if exc.code == 405:
            allowed = sorted(getattr(exc, "valid_methods", None) or [])
            error = errors.MethodNotAllowed(headers={"Allow": ", ".join(allowed)} if allowed else None)
        if error is None:
            cls = errors.BY_STATUS.get(exc.code or 500, errors.GatewayError)
            error = cls(exc.description if (exc.code or 500) < 500 else None)
        return render_error(error)

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception):
        log.exception("unhandled error (request id %s)", getattr(g, "request_id", "-"))
        return render_error(errors.GatewayError())

