"""Clinician portal (public listener): sign-in, find a foreign patient, read the summary in one's language.

The flow: sign in (password, then TOTP when the account has it) -> choose the patient's country
(from the trust list) -> a form built from that country's search mask -> confirm the matched
identity and accept that country's patient information notice -> declare the treatment
relationship and the purpose (treatment or emergency) -> the summary, translated, with the
originals beside, printable and downloadable as PDF.

The clinician is authenticated here, so no partner assertion is involved: the portal builds the
:class:`~gateway.security.assertions.Clinician` from the account and calls the same service
functions as the partner API (:mod:`gateway.services.crossborder`), which sign the HCP and TRC
assertions. Sessions are server-side (:mod:`gateway.storage.users`); every form carries a CSRF
token (Flask-WTF) and a one-time nonce (a replayed post is refused); patient data never appears in
a URL. An expired session sends the clinician to sign-in and keeps the search (encrypted, short-lived
cookie) to resume it afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import orjson
from cryptography.fernet import Fernet, InvalidToken
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, CSRFProtect

from gateway import audit_trail, i18n
from gateway.audit import events
from gateway.config import KNOWN_TRAITS
from gateway.errors import GatewayError
from gateway.request_store import get_store
from gateway.runtime import runtime
from gateway.security import policy
from gateway.security.assertions import Clinician
from gateway.security.trustlist import TrustedCountry
from gateway.services import accounts, crossborder
from gateway.storage import users as user_storage
from gateway.surfaces import portal_view

bp = Blueprint("portal", __name__, template_folder="../templates")
csrf = CSRFProtect()
log = logging.getLogger("ncpeh")

#: Views reachable without a session.
PUBLIC_ENDPOINTS = {"portal.signin", "portal.signin_submit", "portal.signin_code", "portal.signin_code_submit",
                    "portal.set_language"}
PENDING_COOKIE_AGE = 15 * 60
LOCKED = _l("Too many failed attempts: this account is locked for 15 minutes.")
TRAITS = KNOWN_TRAITS
TRAIT_LABELS = {"identifier": _l("Identifier"), "family": lazy_pgettext("search trait: the birth name", "Family name"),
                "given": _l("First name"),
                "birthdate": _l("Date of birth"), "gender": _l("Sex"), "birthplace": _l("Place of birth")}
PURPOSES = {policy.TREATMENT: _l("Treatment"), policy.EMERGENCY: _l("Emergency")}
#: ISCO-08 occupations in the interface's language (the policy table names only what it allows).
ROLE_LABELS = {
    "221": _l("Physician"), "2211": _l("General practitioner"), "2212": _l("Specialist physician"),
    "2261": _l("Dentist"), "2262": _l("Pharmacist"), "2222": _l("Midwife"), "2221": _l("Nurse"),
    "222": _l("Nurse or midwife"), "2264": _l("Physiotherapist"), "2265": _l("Dietician"),
    "3344": _l("Medical secretary"), "3256": _l("Medical assistant"),
}


def role_label(code: str) -> str:
    label = ROLE_LABELS.get(code)
    return str(label) if label else _("Occupation %(code)s (ISCO-08)", code=code)


def init_app(app: Flask) -> None:
    """Interface languages (Flask-Babel) and CSRF protection of the portal's forms (Flask-WTF)."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # only the portal's forms: the FHIR APIs use tokens
    app.config["WTF_CSRF_TIME_LIMIT"] = user_storage.ABSOLUTE_TIMEOUT
    csrf.init_app(app)
    i18n.init_app(app)
    app.context_processor(template_globals)


# --- small helpers ---------------------------------------------------------------------------------


def _lang() -> str:
    return str(get_locale() or i18n.SOURCE_LANGUAGE)


def _state() -> dict[str, Any]:
    return dict(g.portal_session.state) if g.get("portal_session") else {}


def _update(**changes: Any) -> dict[str, Any]:
    state = get_store().users.update_state(g.portal_token, changes)
    g.portal_session = user_storage.Session(**{**g.portal_session.__dict__, "state": state})
    return state


def form_nonce() -> str:
    """A one-time value for the form being rendered; the post is refused when it was already used."""
    token = g.get("portal_token")
    if not token:
        return ""
    nonce = secrets.token_urlsafe(16)
    get_store().users.add_nonce(token, nonce)
    return nonce


def _consume_nonce() -> bool:
    return get_store().users.consume_nonce(g.portal_token, request.form.get("form_nonce", ""))


def _fernet() -> Fernet:
    key = hashlib.sha256(b"ncpeh-portal-pending-search:" + str(current_app.secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _pending_cookie() -> str:
    return f"ncpeh_{runtime().cfg.slug}_pending"


def _safe_next(value: str | None) -> str | None:
    """A path of this site to go back to after sign-in: no scheme, no host, no control characters or
    spaces (browsers drop tabs and newlines, so "/\t/evil.example" would become "//evil.example")."""
    if not value or len(value) >= 200 or not value.startswith("/") or "\\" in value:
        return None
    if any(ord(ch) <= 32 or ord(ch) == 127 for ch in value) or value.startswith("//"):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def _redirect_signin() -> Response:
    return redirect(url_for("portal.signin"))


def clinician(user: user_storage.User) -> Clinician:
    """The signed-in clinician as the assertions name them (the portal authenticated them itself)."""
    return Clinician(id=user.professional_id, name=user.name, role=user.role, organisation=user.organisation,
                     organisation_id=user.organisation_id, language=_lang())


def _context(purpose: str) -> crossborder.CallContext:
    # the clinician's session abroad is this sign-in: its HCP assertion is kept under the session token's digest
    return crossborder.CallContext(request_id=g.request_id, language=_lang(), clinician=clinician(g.portal_user),
                                   purpose=purpose, signer=runtime().signer(),
                                   session=hashlib.sha256((g.portal_token or "").encode()).hexdigest())


def _note_clinician(purpose: str | None, country: TrustedCountry | None = None, *,
                    detail: dict[str, Any] | None = None, **fields: Any) -> None:
    user = g.portal_user
    audit_trail.note(actor_type=events.ACTOR_CLINICIAN, actor_id=user.professional_id, actor_role=user.role,
                     organisation=user.organisation_id, purpose=purpose,
                     peer_country=country.code if country else None,
                     detail={"surface": "portal", "username": user.username, **(detail or {})}, **fields)


def _foreign_countries() -> list[TrustedCountry]:
    rt = runtime()
    trust = rt.trust
    countries = [c for c in (trust.countries.values() if trust else []) if c.code != rt.cfg.code]
    return sorted(countries, key=lambda c: portal_view.country_name(c.code, _lang(), c.name))


# --- before and after every portal request -----------------------------------------------------------


@bp.before_request
def load_session():  # noqa: ANN201 - a response or None
    g.portal_user = None
    g.portal_session = None
    g.portal_token = None
    if request.method == "POST":
        try:
            csrf.protect()
        except CSRFError:
            return problem("FORM_INVALID", status=400)
    token = session.get("sid")
    if token:
        store = get_store()
        current = store.users.session(token)
        user = store.users.get(current.user_id) if current else None
        if current is None or current.expired() or user is None or not user.active:
            return _session_ended(current, token, user)
        store.users.touch(token)
        g.portal_user, g.portal_session, g.portal_token = user, current, token
    if request.endpoint not in PUBLIC_ENDPOINTS and g.portal_user is None:
        session["next"] = _safe_next(request.path) if request.method == "GET" else None
        return _redirect_signin()
    return None


def _session_ended(current: user_storage.Session | None, token: str, user: user_storage.User | None):  # noqa: ANN202
    """The session timed out (or was ended): back to sign-in, keeping the patient search."""
    store = get_store()
    search = None
    if current is not None and user is not None:
        search = (current.state or {}).get("search")
        if request.method == "POST" and request.endpoint == "portal.search_submit":
            code = (request.view_args or {}).get("code", "")
            search = {"country": str(code).upper()[:2], "traits": _posted_traits()}
    if current is not None:
        store.users.end_session(token)
        _forget_summaries(token)
    session.pop("sid", None)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    flash("expired", "notice")
    resp = _redirect_signin()
    if search and user is not None:
        payload = json.dumps({"user": user.id, "search": search, "at": int(time.time())}).encode()
        resp.set_cookie(_pending_cookie(), _fernet().encrypt(payload).decode(), max_age=PENDING_COOKIE_AGE,
                        secure=True, httponly=True, samesite="Strict", path="/")
    return resp


@bp.after_request
def security_headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers.setdefault("Content-Language", _lang())
    return resp


def template_globals() -> dict[str, Any]:
    """What every portal page uses (app-wide: the page of an unknown address is a portal page too)."""
    user = g.get("portal_user")
    return {
        "cfg": runtime().cfg, "user": user, "lang": _lang(), "languages": i18n.LANGUAGES,
        "form_nonce": form_nonce, "role_label": role_label, "request_id": g.get("request_id"),
        "notices": get_flashed_messages(category_filter=["notice"]),
        "own_country": portal_view.country_name(runtime().cfg.code, _lang(), runtime().cfg.name),
        "language_name": lambda code: portal_view.language_name(code, _lang()),
        "kind_label": portal_view.kind_label,
    }


# --- errors a clinician understands ------------------------------------------------------------------

#: code -> (title, what happened, what to do next); ``%(country)s`` is the foreign country's name.
PROBLEMS: dict[str, tuple[Any, Any, Any]] = {
    "NO_MATCH": (_l("No patient found"),
                 _l("%(country)s found no patient with these identity traits."),
                 _l("Check each trait against the patient's identity document or health insurance card "
                    "(spelling of the names, date of birth, every character of the identifier), then search again.")),
    "SEVERAL_MATCHES": (_l("Several patients match"),
                        _l("%(country)s found more than one patient with these identity traits."),
                        _l("Add or correct identity traits (the identifier first) so that only one patient matches.")),
    "ACCESS_REFUSED": (_l("The summary cannot be released"),
                       _l("%(country)s does not release this patient's summary across the border: the patient "
                          "has opposed cross-border access, or has not given the required consent."),
                       _l("Ask the patient about their summary; treat them with the information available to you. "
                          "This request has been recorded.")),
    "PEER_TIMEOUT": (_l("No answer in time"),
                     _l("%(country)s did not answer in time."),
                     _l("Try again in a moment. If it keeps failing, the service of that country may be disrupted: "
                        "contact your national contact point's helpdesk.")),
    "PEER_UNAVAILABLE": (_l("Country unreachable"),
                         _l("%(country)s cannot be reached at the moment."),
                         _l("Try again in a few minutes. If it keeps failing, contact your national contact "
                            "point's helpdesk.")),
    "PEER_BAD_ANSWER": (_l("Unreadable answer"),
                        _l("%(country)s answered, but its answer could not be read safely; nothing of it is shown."),
                        _l("Try again later. If it keeps failing, contact your national contact point's helpdesk and "
                           "give the reference below.")),
    "TRUST_LIST_INVALID": (_l("Cross-border exchange suspended"),
                           _l("The list of trusted countries is not valid: no request can leave."),
                           _l("Contact your national contact point's helpdesk.")),
    "UNKNOWN_COUNTRY": (_l("Country not connected"),
                        _l("This country does not take part in the exchange with your national contact point."),
                        _l("Choose one of the countries offered.")),
    "OWN_COUNTRY": (_l("This is your own country"),
                    _l("Patients insured in your own country are not searched through the cross-border service."),
                    _l("Use your national services (for example the national health record) for this patient.")),
    "NO_PATIENT": (_l("No patient selected"),
                   _l("There is no patient search in progress (or it was started in another window)."),
                   _l("Start a new search.")),
    "FORM_INVALID": (_l("This form has expired"),
                     _l("The form was sent without a valid security token (it may be too old, or come from "
                        "another site)."),
                     _l("Go back to the start page and fill in the form again.")),
    "FORM_REPLAYED": (_l("This form was already sent"),
                      _l("The same form cannot be sent twice (for example with the browser's back button)."),
                      _l("Go back to the start page and fill in the form again.")),
    "ROLE_NOT_ALLOWED": (_l("Your profession may not retrieve summaries"),
                         _l("Cross-border patient summaries are available only to the professions the access "
                            "policy allows."),
                         _l("Ask a colleague of an allowed profession.")),
    "PURPOSE_NOT_ALLOWED": (_l("Purpose not allowed for your profession"),
                            _l("Your profession may retrieve patient summaries only for the purposes listed below."),
                            _l("Choose an allowed purpose.")),
    "REFUSED_BY_COUNTRY": (_l("Request refused"),
                           _l("%(country)s refused the request (code %(code)s)."),
                           _l("Try again; if it keeps failing, contact your national contact point's helpdesk and "
                              "give the reference below.")),
    "INTERNAL_ERROR": (_l("Something went wrong"),
                       _l("The request could not be completed."),
                       _l("Try again; if it keeps failing, contact your national contact point's helpdesk and "
                          "give the reference below.")),
    "NOT_FOUND": (_l("Page not found"), _l("There is no page at this address."), _l("Go back to the start page.")),
}
#: The patient information notice: what the clinician tells the patient before retrieving the summary
#: (the common part, then what the patient's country adds); ``%(country)s`` is that country's name.
NOTICE_COMMON = (
    _l("%(country)s releases the patient summary only to a health professional who is treating the patient, "
       "for this care."),
    _l("Every access is recorded, in %(country)s and here; the patient can ask %(country)s who accessed their "
       "summary and when."),
    _l("This service does not store the summary; you may copy it (print or PDF) into your local record of this care."),
    _l("The patient may refuse: in that case, do not retrieve the summary."),
)
NOTICE_COUNTRY = {
    "FR": _l("In France, the summary comes from the patient's shared medical record (DMP, summary sheet); the "
             "patient can oppose cross-border access at any time in Mon espace santé."),
    "DE": _l("In Germany, the summary comes from the patient's electronic patient record (ePA); the patient can "
             "object to cross-border access through their health insurer."),
    "IT": _l("In Italy, the summary comes from the patient's electronic health record (Fascicolo Sanitario "
             "Elettronico); the patient can withdraw consent through their region's health record service."),
}


def patient_notice(country: TrustedCountry) -> list[str]:
    """The patient information notice of ``country``, in the clinician's language."""
    name = portal_view.country_name(country.code, _lang(), country.name)
    paragraphs = [str(p) % {"country": name} for p in NOTICE_COMMON]
    if country.code in NOTICE_COUNTRY:
        paragraphs.insert(0, str(NOTICE_COUNTRY[country.code]))
    return paragraphs


_PEER_CODES = {"PEER_UNAVAILABLE", "PEER_UNREACHABLE", "PEER_TLS_FAILURE", "PEER_CIRCUIT_OPEN", "PEER_BUSY"}


def problem(code: str, *, status: int, country: TrustedCountry | None = None, retry: str | None = None,
            retry_post: bool = False, detail_code: str | None = None, **extra: Any):  # noqa: ANN201
    """A page saying what happened and what to do next, in the clinician's language.

    ``retry``: where the "Try again" button leads (a POST form with a fresh nonce when ``retry_post``).
    """
    key = "PEER_UNAVAILABLE" if code in _PEER_CODES else code
    if key not in PROBLEMS:
        key = "REFUSED_BY_COUNTRY" if country is not None and status < 500 else "INTERNAL_ERROR"
    title, what, next_step = PROBLEMS[key]
    name = portal_view.country_name(country.code, _lang(), country.name) if country else ""
    body = render_template("portal/problem.html", code=key, detail_code=detail_code or code, title=title,
                           what=str(what) % {"country": name, "code": detail_code or code}, next_step=next_step,
                           retry=retry, retry_post=retry_post, country=country, **extra)
    return body, status


def render_error(error: GatewayError, request_id: str | None):  # noqa: ANN201 - called by gateway.app
    if error.code == "NO_SUCH_ENDPOINT":
        body, status = problem("NOT_FOUND", status=404)
    else:
        body, status = problem(error.code, status=error.status)
    return body, status, error.headers


def _refused(exc: GatewayError, country: TrustedCountry | None, retry: str | None = None,
             retry_post: bool = False):  # noqa: ANN202
    audit_trail.note(outcome_code=exc.code)
    if exc.code in ("ROLE_NOT_ALLOWED", "ROLE_MISSING", "PURPOSE_NOT_ALLOWED", "PURPOSE_OF_USE_MISSING"):
        return not_allowed(exc.code, status=403)
    return problem(exc.code, status=exc.status, country=country, detail_code=exc.code,
                   retry=retry if exc.status >= 500 else None, retry_post=retry_post)


def not_allowed(code: str = "ROLE_NOT_ALLOWED", status: int = 403):  # noqa: ANN201
    user = g.portal_user
    allowed = [(role_label(r.code), sorted(str(PURPOSES[p]) for p in r.purposes)) for r in policy.ROLES.values()]
    own = policy.ROLES.get(user.role)
    own_purposes = sorted(str(PURPOSES[p]) for p in own.purposes) if own else []
    title, what, next_step = PROBLEMS.get(code, PROBLEMS["ROLE_NOT_ALLOWED"])
    return render_template("portal/not_allowed.html", title=title, what=what, next_step=next_step, allowed=allowed,
                           own_purposes=own_purposes, code=code), status


# --- sign-in, second factor, sign-out, language ------------------------------------------------------


@bp.get("/signin")
def signin():  # noqa: ANN201
    if g.portal_user is not None:
        return redirect(url_for("portal.index"))
    return render_template("portal/signin.html", error=None, username="")


def _signin_refused(message: Any, username: str, status: int = 401):  # noqa: ANN202
    return render_template("portal/signin.html", error=message, username=username), status


@bp.post("/signin")
def signin_submit():  # noqa: ANN201
    """Password step. A locked name gets the same answer whatever the password (it is not even checked,
    but a dummy hash is, so that the answer takes as long), and names are locked alike whether an
    account has them or not."""
    store = get_store()
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")[:1024]
    name = user_storage.signin_name(username)
    address = request.remote_addr
    if store.users.address_throttled(address):
        audit_trail.record_login("unknown", success=False, code="RATE_LIMITED", method="password")
        return _signin_refused(_l("Too many failed sign-in attempts from this computer. Wait 15 minutes and try "
                                  "again."), username, status=429)
    known = store.users.get_by_username(username) if username else None
    actor = known.professional_id if known else "unknown"
    if name and store.users.name_locked(name):
        store.users.spend_password_check(password)
        store.users.record_failure(None, address)  # counts for the address only: the lock is not extended
        audit_trail.record_login(actor, success=False, code="ACCOUNT_LOCKED", role=known.role if known else None,
                                 method="password")
        return _signin_refused(LOCKED, username, status=429)
    user = store.users.check_password(username, password) if username and password else None
    if user is None or not user.active:
        # a disabled account answers like a wrong password, and counts as one: its right password tells nothing
        locked_now = store.users.record_failure(name, address)
        code = "ACCOUNT_LOCKED" if locked_now else "ACCOUNT_DISABLED" if user is not None else "BAD_CREDENTIALS"
        audit_trail.record_login(actor, success=False, code=code, role=known.role if known else None, method="password")
        if locked_now:
            return _signin_refused(LOCKED, username, status=429)
        return _signin_refused(_l("Wrong username or password."), username)
    if user.totp_enabled:
        store.users.consume_pending_signin(session.get("pending_signin"))  # this browser's earlier one, if any
        session["pending_signin"] = store.users.open_pending_signin(user.id)
        return redirect(url_for("portal.signin_code"))
    return _complete_signin(user, "password")


def _complete_signin(user: user_storage.User, method: str) -> Response:
    store = get_store()
    store.users.record_success(user.id)
    audit_trail.record_login(user.professional_id, success=True, role=user.role, organisation=user.organisation_id,
                             method=method)
    pending = _read_pending(user)
    previous = session.get("sid")
    if previous:  # signing in again ends the session this browser had (same or another clinician)
        store.users.end_session(previous)
        _forget_summaries(previous)
        if g.get("portal_user") is not None:
            audit_trail.record_logout(g.portal_user.professional_id)
    token = store.users.open_session(user.id, {"search": pending} if pending else None)
    lang, next_path = session.get("lang"), session.get("next")
    session.clear()  # a fresh cookie session (new CSRF secret) for the signed-in clinician
    session["sid"] = token
    if lang:
        session["lang"] = lang
    if pending and pending.get("country"):
        flash("resumed", "notice")
        resp = redirect(url_for("portal.search_form", code=pending["country"]))
    else:
        resp = redirect(_safe_next(next_path) or url_for("portal.index"))
    resp.delete_cookie(_pending_cookie(), path="/", secure=True, httponly=True, samesite="Strict")
    return resp


def _read_pending(user: user_storage.User) -> dict[str, Any] | None:
    raw = request.cookies.get(_pending_cookie())
    if not raw:
        return None
    try:
        data = json.loads(_fernet().decrypt(raw.encode(), ttl=PENDING_COOKIE_AGE))
    except (InvalidToken, ValueError):
        return None
    if data.get("user") != user.id or not isinstance(data.get("search"), dict):
        return None  # another clinician's search is never resumed
    return data["search"]


def _pending_totp_user() -> user_storage.User | None:
    """The account whose password was right, while its server-side pending sign-in is valid and unused."""
    user_id = get_store().users.pending_signin(session.get("pending_signin"))
    return get_store().users.get(user_id) if user_id is not None else None


def _end_pending() -> None:
    get_store().users.consume_pending_signin(session.pop("pending_signin", None))


@bp.get("/signin/code")
def signin_code():  # noqa: ANN201
    if _pending_totp_user() is None:
        session.pop("pending_signin", None)
        return _redirect_signin()
    return render_template("portal/totp.html", error=None)


@bp.post("/signin/code")
def signin_code_submit():  # noqa: ANN201
    """Second-factor step: the pending sign-in is used up by a success, a lock, or an unusable secret."""
    user = _pending_totp_user()
    if user is None or not user.active or not user.totp_secret:
        _end_pending()
        return _redirect_signin()
    store = get_store()
    if user.locked():
        _end_pending()
        return _signin_refused(LOCKED, "", status=429)
    try:
        secret = accounts.totp_secret(runtime().cfg, user)
    except accounts.TotpUnavailable as exc:
        log.error("second-factor sign-in refused: %s", exc)
        _end_pending()
        audit_trail.record_login(user.professional_id, success=False, code="SECOND_FACTOR_UNAVAILABLE",
                                 role=user.role, method="totp")
        return _signin_refused(_l("Sign-in with a second factor is not possible at the moment. Contact your "
                                  "administrator."), "", status=503)
    step = accounts.totp_step(secret, request.form.get("code", ""))
    if step is None or not store.users.accept_totp_step(user.id, step):
        locked_now = store.users.record_failure(user_storage.signin_name(user.username), request.remote_addr)
        audit_trail.record_login(user.professional_id, success=False,
                                 code="ACCOUNT_LOCKED" if locked_now else "BAD_SECOND_FACTOR", role=user.role,
                                 method="totp")
        if locked_now:
            _end_pending()
            return _signin_refused(LOCKED, "", status=429)
        return render_template("portal/totp.html", error=_l("Wrong or already used code.")), 401
    if not store.users.consume_pending_signin(session.pop("pending_signin", None)):
        return _redirect_signin()  # used meanwhile by a copy of this browser's cookie
    return _complete_signin(user, "password+totp")


@bp.post("/signout")
def signout():  # noqa: ANN201
    user, token = g.portal_user, g.portal_token
    if token:
        get_store().users.end_session(token)
        _forget_summaries(token)
    if user is not None:
        audit_trail.record_logout(user.professional_id)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash("signed-out", "notice")
    return _redirect_signin()


@bp.post("/language")
def set_language():  # noqa: ANN201
    chosen = request.form.get("language", "")
    if chosen in i18n.LANGUAGES:
        session["lang"] = chosen
    return redirect(_safe_next(request.form.get("next")) or url_for("portal.index"))


# --- the flow ----------------------------------------------------------------------------------------


@bp.get("/")
def index():  # noqa: ANN201
    user = g.portal_user
    if user.role not in policy.ROLES:
        return not_allowed()
    if runtime().trust is None:
        return problem("TRUST_LIST_INVALID", status=503)
    countries = [(c, portal_view.country_name(c.code, _lang(), c.name)) for c in _foreign_countries()]
    return render_template("portal/index.html", countries=countries, state=_state())


@bp.post("/new")
def new_search():  # noqa: ANN201
    _update(search=None, matches=None, patient=None, purpose=None)
    _forget_summaries(g.portal_token)
    return redirect(url_for("portal.index"))


def _country(code: str) -> TrustedCountry:
    rt = runtime()
    return crossborder.foreign_country(rt.trust, code.upper(), rt.cfg.code)


def _posted_traits() -> dict[str, str]:
    return {t: request.form.get(t, "").strip()[:100] for t in TRAITS if request.form.get(t, "").strip()}


def _identifier_hint(country: TrustedCountry) -> dict[str, Any]:
    """What the identifier looks like (HTML hints; the server checks the real rule)."""
    return {
        "ins-nir": {"pattern": r"[0-9]{13}[0-9]{2}|[0-9]{5}2[AaBb][0-9]{8}", "maxlength": 15, "inputmode": "numeric",
                    "hint": _l("15 characters: 13 digits and a 2-digit key (the key is checked).")},
        "kvnr": {"pattern": r"[A-Za-z][0-9]{9}", "maxlength": 10, "inputmode": "text",
                 "hint": _l("10 characters: one letter and 9 digits (the check digit is checked).")},
        "codice-fiscale": {"pattern": r"[A-Za-z0-9]{16}", "maxlength": 16, "inputmode": "text",
                           "hint": _l("16 letters and digits (the check letter is checked).")},
    }.get(country.identifier_scheme, {"pattern": None, "maxlength": 64, "inputmode": "text", "hint": None})


def validate_traits(country: TrustedCountry, traits: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(clean traits, errors by field) against the country's search mask and its identifier's rule."""
    from gateway.records.identifiers import IDENTIFIER_SCHEMES, IdentifierError

    problems: dict[str, str] = {}
    clean: dict[str, str] = {}
    for trait in country.search_mask:
        if not traits.get(trait):
            problems[trait] = _("%(trait)s is required by %(country)s.", trait=str(TRAIT_LABELS[trait]),
                                country=portal_view.country_name(country.code, _lang(), country.name))
    for trait, value in traits.items():
        if trait not in country.search_mask or trait in problems:
            continue
        if any(ord(ch) < 32 for ch in value) or "<" in value or ">" in value:
            problems[trait] = _("This field contains characters that are not allowed.")
            continue
        if trait == "identifier":
            scheme = IDENTIFIER_SCHEMES.get(country.identifier_scheme)
            try:
                value = scheme.validate(value) if scheme else value
            except IdentifierError:
                problems[trait] = _("This %(label)s is not valid: check every character and the check key.",
                                    label=country.identifier_label)
                continue
        elif trait == "birthdate":
            try:
                born = time.strptime(value, "%Y-%m-%d")
                if time.mktime(born) > time.time():
                    raise ValueError
            except (ValueError, OverflowError):
                problems[trait] = _("Give a real date of birth, not in the future.")
                continue
        elif trait == "gender" and value not in portal_view.GENDERS:
            problems[trait] = _("Choose one of the values offered.")
            continue
        clean[trait] = value
    return clean, problems


def _search_page(country: TrustedCountry, values: dict[str, str], problems: dict[str, str], status: int = 200):  # noqa: ANN202
    return render_template("portal/search.html", country=country, values=values, problems=problems,
                           country_label=portal_view.country_name(country.code, _lang(), country.name),
                           mask=[t for t in TRAITS if t in country.search_mask], labels=TRAIT_LABELS,
                           genders=portal_view.GENDERS, hint=_identifier_hint(country)), status


@bp.get("/search/<code>")
def search_form(code: str):  # noqa: ANN201
    if g.portal_user.role not in policy.ROLES:
        return not_allowed()
    try:
        country = _country(code)
    except GatewayError as exc:
        return problem(exc.code, status=exc.status)
    search = _state().get("search") or {}
    values = search.get("traits", {}) if search.get("country") == country.code else {}
    return _search_page(country, values, {})


def _identify(country: TrustedCountry, traits: dict[str, str]):  # noqa: ANN202
    """Ask the patient's country to identify them; a page for the outcome."""
    _note_clinician(policy.TREATMENT, country, detail={"parameters": sorted(traits)})
    query = dict(traits)
    if "identifier" in query:
        query["identifier"] = f"{country.identifier_system}|{traits['identifier']}"
    retry = url_for("portal.search_retry", code=country.code)
    try:
        found = crossborder.identify_abroad(runtime().peers, country, query, _context(policy.TREATMENT))
    except GatewayError as exc:
        return _refused(exc, country, retry=retry, retry_post=True)
    audit_trail.note(detail={"matches": len(found)},
                     patient_id=found[0]["id"] if len(found) == 1 else None)
    if not found:
        return problem("NO_MATCH", status=200, country=country, search_again=True)
    if len(found) > 1:
        return problem("SEVERAL_MATCHES", status=200, country=country, search_again=True)
    _update(matches=[_identity(found[0])], patient=None, purpose=None)
    return redirect(url_for("portal.confirm"))


@bp.post("/search/<code>")
@audit_trail.audited(events.IDENTIFY, events.REQUESTING)
def search_submit(code: str):  # noqa: ANN201
    if not _consume_nonce():
        audit_trail.note(outcome_code="FORM_REPLAYED")
        return problem("FORM_REPLAYED", status=409)
    try:
        country = _country(code)
        policy.check(g.portal_user.role, policy.TREATMENT)
    except GatewayError as exc:
        return _refused(exc, None)
    posted = _posted_traits()
    traits, problems = validate_traits(country, posted)
    _update(search={"country": country.code, "traits": posted}, matches=None, patient=None, purpose=None)
    if problems:
        audit_trail.note(skip=True)  # nothing left the country
        return _search_page(country, posted, problems, status=400)
    return _identify(country, traits)


@bp.post("/search/<code>/retry")
@audit_trail.audited(events.IDENTIFY, events.REQUESTING)
def search_retry(code: str):  # noqa: ANN201
    if not _consume_nonce():
        audit_trail.note(outcome_code="FORM_REPLAYED")
        return problem("FORM_REPLAYED", status=409)
    search = _state().get("search") or {}
    try:
        country = _country(code)
        policy.check(g.portal_user.role, policy.TREATMENT)
    except GatewayError as exc:
        return _refused(exc, None)
    if search.get("country") != country.code:
        audit_trail.note(skip=True)
        return problem("NO_PATIENT", status=409)
    traits, problems = validate_traits(country, search.get("traits") or {})
    if problems:
        audit_trail.note(skip=True)
        return _search_page(country, search.get("traits") or {}, problems, status=400)
    return _identify(country, traits)


def _identity(resource: dict[str, Any]) -> dict[str, Any]:
    """What the confirmation page shows of a matched patient (and the id to ask the summary with)."""
    names = resource.get("name") or [{}]
    name = names[0] if isinstance(names[0], dict) else {}
    return {
        "id": str(resource.get("id", ""))[:80],
        "family": str(name.get("family", ""))[:100],
        "given": " ".join(str(x) for x in name.get("given", []) or [])[:200],
        "birthdate": str(resource.get("birthDate", ""))[:10],
        "gender": str(resource.get("gender", ""))[:10],
        "identifiers": [[str(i.get("system", ""))[:200], str(i.get("value", ""))[:64]]
                        for i in resource.get("identifier", []) or [] if isinstance(i, dict)][:5],
    }


def _current_match() -> tuple[dict[str, Any] | None, TrustedCountry | None]:
    state = _state()
    matches = state.get("matches") or []
    search = state.get("search") or {}
    if len(matches) != 1 or not search.get("country"):
        return None, None
    try:
        return matches[0], _country(search["country"])
    except GatewayError:
        return None, None


@bp.get("/patient")
def confirm():  # noqa: ANN201
    match, country = _current_match()
    if match is None:
        return problem("NO_PATIENT", status=409)
    return _confirm_page(match, country, None)


def _confirm_page(match: dict[str, Any], country: TrustedCountry, error: Any, status: int = 200):  # noqa: ANN202
    return render_template(
        "portal/confirm.html", match=match, country=country, error=error,
        country_label=portal_view.country_name(country.code, _lang(), country.name),
        birth=portal_view.date_view(match.get("birthdate"), _lang()),
        gender=portal_view.GENDERS.get(match.get("gender", ""), match.get("gender")),
        identifier_label=lambda system: country.identifier_label if system == country.identifier_system else system,
        notice=patient_notice(country),
    ), status


@bp.post("/patient")
def confirm_submit():  # noqa: ANN201
    if not _consume_nonce():
        return problem("FORM_REPLAYED", status=409)
    match, country = _current_match()
    if match is None:
        return problem("NO_PATIENT", status=409)
    if request.form.get("identity") != "confirmed" or request.form.get("notice") != "accepted":
        return _confirm_page(match, country, _l("Confirm the patient's identity and that the patient information "
                                                "notice was given before you continue."), status=400)
    _update(patient={**match, "country": country.code, "notice": True}, purpose=None)
    return redirect(url_for("portal.declare"))


def _current_patient() -> tuple[dict[str, Any] | None, TrustedCountry | None]:
    patient = _state().get("patient")
    if not patient or not patient.get("notice"):
        return None, None
    try:
        return patient, _country(patient["country"])
    except GatewayError:
        return None, None


def _purposes_for(role: str) -> list[tuple[str, str]]:
    entry = policy.ROLES.get(role)
    return [(p, str(PURPOSES[p])) for p in policy.PURPOSES if entry and p in entry.purposes]


@bp.get("/declare")
def declare():  # noqa: ANN201
    patient, country = _current_patient()
    if patient is None:
        return problem("NO_PATIENT", status=409)
    if g.portal_user.role not in policy.ROLES:
        return not_allowed()
    return render_template("portal/declare.html", patient=patient, country=country, error=None,
                           purposes=_purposes_for(g.portal_user.role),
                           country_label=portal_view.country_name(country.code, _lang(), country.name)), 200


@bp.post("/declare")
def declare_submit():  # noqa: ANN201
    if not _consume_nonce():
        return problem("FORM_REPLAYED", status=409)
    patient, country = _current_patient()
    if patient is None:
        return problem("NO_PATIENT", status=409)
    purpose = request.form.get("purpose", "")
    try:
        policy.check(g.portal_user.role, purpose)
    except GatewayError as exc:  # refused before anything leaves, recorded like the same refusal later on
        audit_trail.note(event=events.SUMMARY, side=events.REQUESTING, patient_id=patient["id"])
        _note_clinician(purpose or None, country)
        return _refused(exc, country)
    if request.form.get("relationship") != "declared":
        return render_template("portal/declare.html", patient=patient, country=country, purposes=_purposes_for(
            g.portal_user.role), error=_l("Declare your treatment relationship with the patient to continue."),
            country_label=portal_view.country_name(country.code, _lang(), country.name)), 400
    _update(purpose=purpose)
    return redirect(url_for("portal.summary"))


# --- the summary -------------------------------------------------------------------------------------

_CACHE_SECONDS = 300
_cache: dict[tuple[str, str, str], tuple[float, bytes]] = {}
_cache_lock = threading.Lock()


def _cache_key(token: str, patient_id: str, purpose: str) -> tuple[str, str, str]:
    return hashlib.sha256(token.encode()).hexdigest(), patient_id, purpose


def _forget_summaries(token: str) -> None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    with _cache_lock:
        for key in [k for k in _cache if k[0] == digest]:
            del _cache[key]


def _fetch_summary(patient: dict[str, Any], country: TrustedCountry, purpose: str) -> bytes:
    """The document as country A sent it (its exact bytes): from A (audited), or again from this session's
    short cache.

    The summary is kept in memory only, for a few minutes, for this session (print, PDF, another
    language); it is never written to disk at this side.
    """
    key = _cache_key(g.portal_token, patient["id"], purpose)
    now = time.monotonic()
    with _cache_lock:
        for k in [k for k, v in _cache.items() if now - v[0] > _CACHE_SECONDS]:
            del _cache[k]
        hit = _cache.get(key)
    if hit is not None:
        return hit[1]
    code, remote_id = crossborder.split_local_id(patient["id"])
    audit_trail.note(event=events.SUMMARY, side=events.REQUESTING, patient_id=patient["id"])
    _note_clinician(purpose, country)
    rt = runtime()
    body = crossborder.summary_bytes_abroad(rt.peers, country, remote_id, _context(purpose))
    translated = crossborder.translate_received(rt.peers, country, body, _lang(), rt.terminology)  # checks it too
    audit_trail.note(detail={"document_id": translated.document_id, "document_sha256": translated.received_sha256})
    with _cache_lock:
        _cache[key] = (now, body)
        while len(_cache) > 64:
            del _cache[next(iter(_cache))]
    return body


def _summary_view() -> tuple[Any, Any, Any, dict[str, Any] | None]:
    """(view, patient, country, translated document) or a response for what went wrong.

    The document is translated through the same path and cache as the partner API's (once per content
    and language in this process), never again per page view."""
    patient, country = _current_patient()
    purpose = _state().get("purpose")
    if patient is None or not purpose:
        return None, problem("NO_PATIENT", status=409), None, None
    rt = runtime()
    try:
        policy.check(g.portal_user.role, purpose)
        body = _fetch_summary(patient, country, purpose)
        translated = crossborder.translate_received(rt.peers, country, body, _lang(), rt.terminology)
    except GatewayError as exc:
        return None, _refused(exc, country, retry=url_for("portal.summary")), None, None
    document = orjson.loads(translated.body)
    labels = {country.identifier_system: country.identifier_label}
    view = portal_view.summary_view(document, _lang(), country_code=country.code,
                                    country_label=portal_view.country_name(country.code, _lang(), country.name),
                                    identifier_labels=labels, coverage=translated.coverage, term=rt.terminology)
    return view, patient, country, document


@bp.get("/summary")
def summary():  # noqa: ANN201
    view, patient, country, document = _summary_view()
    if view is None:
        return patient  # the problem page
    return render_template("portal/summary.html", view=view, patient=patient, country=country,
                           purpose=PURPOSES.get(_state().get("purpose"), ""),
                           has_original=crossborder.has_original(document))


@bp.get("/summary.pdf")
def summary_pdf():  # noqa: ANN201
    view, patient, country, _document = _summary_view()
    if view is None:
        return patient
    from gateway.surfaces.portal_pdf import render_pdf

    audit_trail.note(event=events.SUMMARY, side=events.REQUESTING, patient_id=patient["id"],
                     detail={"export": "pdf"})
    _note_clinician(_state().get("purpose"), country)
    data = render_pdf(view, clinician=g.portal_user, language=_lang(),
                      purpose=str(PURPOSES.get(_state().get("purpose"), "")))
    stamp = time.strftime("%Y%m%d-%H%M")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="patient-summary-{country.code.lower()}-{stamp}.pdf"'})
