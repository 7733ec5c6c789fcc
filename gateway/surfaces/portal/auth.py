"""Sign-in (password, then TOTP when the account has it), lockout, sign-out, the interface language, and
the session check before every portal request.

The work of each sign-in step is one service (:mod:`gateway.services.accounts`): these views parse the
form, call it, and render its outcome. An expired session sends the clinician to sign-in and keeps the
search (an encrypted, short-lived cookie) to resume it afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import Response, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from gateway import audit_trail, i18n
from gateway.request_store import get_store
from gateway.runtime import runtime
from gateway.security.addresses import client_network
from gateway.services import accounts
from gateway.storage import users as user_storage
from gateway.surfaces.portal.base import PUBLIC_ENDPOINTS, bp, csrf, posted_traits, redirect_signin, safe_next
from gateway.surfaces.portal.pages import problem
from gateway.surfaces.portal.summary import forget_summaries

PENDING_COOKIE_AGE = 15 * 60
LOCKED = _l("Too many failed attempts: this account is locked for 15 minutes.")
#: The sign-in page's answer to each refusal of the password step: (message, HTTP status).
PASSWORD_REFUSALS = {
    accounts.THROTTLED: (_l("Too many failed sign-in attempts from this computer. Wait 15 minutes and try again."),
                         429),
    accounts.LOCKED: (LOCKED, 429),
    accounts.WRONG: (_l("Wrong username or password."), 401),
}


# --- the pending search: kept over an expired session ------------------------------------------------


def _fernet() -> Fernet:
    key = hashlib.sha256(b"ncpeh-portal-pending-search:" + str(current_app.secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _pending_cookie() -> str:
    return f"ncpeh_{runtime().cfg.slug}_pending"


def _keep_pending(resp: Response, user: user_storage.User, search: dict[str, Any]) -> None:
    payload = json.dumps({"user": user.id, "search": search, "at": int(time.time())}).encode()
    resp.set_cookie(_pending_cookie(), _fernet().encrypt(payload).decode(), max_age=PENDING_COOKIE_AGE,
                    secure=True, httponly=True, samesite="Strict", path="/")


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


# --- before every portal request ---------------------------------------------------------------------


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
        session["next"] = safe_next(request.path) if request.method == "GET" else None
        return redirect_signin()
    return None


def _session_ended(current: user_storage.Session | None, token: str, user: user_storage.User | None):  # noqa: ANN202
    """The session timed out (or was ended): back to sign-in, keeping the patient search."""
    search = None
    if current is not None and user is not None:
        search = (current.state or {}).get("search")
        if request.method == "POST" and request.endpoint == "portal.search_submit":
            code = (request.view_args or {}).get("code", "")
            search = {"country": str(code).upper()[:2], "traits": posted_traits()}
    if current is not None:
        get_store().users.end_session(token)
        forget_summaries(token)
    session.pop("sid", None)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    flash("expired", "notice")
    resp = redirect_signin()
    if search and user is not None:
        _keep_pending(resp, user, search)
    return resp


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
    """Password step (:func:`gateway.services.accounts.sign_in_password`)."""
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")[:1024]
    result = accounts.sign_in_password(get_store().users, username, password, client_network(request.remote_addr),
                                      audit_trail.record_login)
    if result.outcome in PASSWORD_REFUSALS:
        message, status = PASSWORD_REFUSALS[result.outcome]
        return _signin_refused(message, username, status=status)
    assert result.user is not None
    if result.outcome == accounts.SECOND_FACTOR:
        users = get_store().users
        users.consume_pending_signin(session.get("pending_signin"))  # this browser's earlier one, if any
        session["pending_signin"] = users.open_pending_signin(result.user.id)
        return redirect(url_for("portal.signin_code"))
    return _complete_signin(result.user, "password")


def _complete_signin(user: user_storage.User, method: str) -> Response:
    store = get_store()
    accounts.signed_in(store.users, user, method, audit_trail.record_login)
    pending = _read_pending(user)
    previous = session.get("sid")
    if previous:  # signing in again ends the session this browser had (same or another clinician)
        store.users.end_session(previous)
        forget_summaries(previous)
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
        resp = redirect(safe_next(next_path) or url_for("portal.index"))
    resp.delete_cookie(_pending_cookie(), path="/", secure=True, httponly=True, samesite="Strict")
    return resp


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
        return redirect_signin()
    return render_template("portal/totp.html", error=None)


@bp.post("/signin/code")
def signin_code_submit():  # noqa: ANN201
    """Second-factor step (:func:`gateway.services.accounts.sign_in_code`): the pending sign-in is used up by
    a success, a lock, or an unusable secret."""
    users = get_store().users
    result = accounts.sign_in_code(users, runtime().cfg, _pending_totp_user(), request.form.get("code", ""),
                                   client_network(request.remote_addr), audit_trail.record_login)
    if result.outcome == accounts.WRONG:
        return render_template("portal/totp.html", error=_l("Wrong or already used code.")), 401
    if result.outcome != accounts.SIGNED_IN:
        _end_pending()
        if result.outcome == accounts.LOCKED:
            return _signin_refused(LOCKED, "", status=429)
        if result.outcome == accounts.UNAVAILABLE:
            return _signin_refused(_l("Sign-in with a second factor is not possible at the moment. Contact your "
                                      "administrator."), "", status=503)
        return redirect_signin()
    if not users.consume_pending_signin(session.pop("pending_signin", None)):
        return redirect_signin()  # used meanwhile by a copy of this browser's cookie
    assert result.user is not None
    return _complete_signin(result.user, "password+totp")


@bp.post("/signout")
def signout():  # noqa: ANN201
    user, token = g.portal_user, g.portal_token
    if token:
        get_store().users.end_session(token)
        forget_summaries(token)
    if user is not None:
        audit_trail.record_logout(user.professional_id)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash("signed-out", "notice")
    return redirect_signin()


@bp.post("/language")
def set_language():  # noqa: ANN201
    chosen = request.form.get("language", "")
    if chosen in i18n.LANGUAGES:
        session["lang"] = chosen
    return redirect(safe_next(request.form.get("next")) or url_for("portal.index"))
