"""What every part of the portal shares: the blueprint, CSRF, the clinician's session state, the labels
of traits, purposes and occupations, and the clinician as the cross-border services name them."""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, g, redirect, request, url_for
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFProtect

from gateway import audit_trail, i18n
from gateway.audit import events
from gateway.config import KNOWN_TRAITS
from gateway.errors import GatewayError
from gateway.request_store import get_store
from gateway.runtime import runtime
from gateway.security import policy
from gateway.security.assertions import Clinician
from gateway.security.trustlist import TrustedCountry
from gateway.services import crossborder
from gateway.storage import users as user_storage
from gateway.surfaces import portal_view

bp = Blueprint("portal", __name__, template_folder="../../templates")
csrf = CSRFProtect()
log = logging.getLogger("ncpeh")

#: Views reachable without a session.
PUBLIC_ENDPOINTS = {"portal.signin", "portal.signin_submit", "portal.signin_code", "portal.signin_code_submit",
                    "portal.set_language"}
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


def lang() -> str:
    """The interface language (the clinician's): pages, translation of summaries, PDF."""
    return str(get_locale() or i18n.SOURCE_LANGUAGE)


def state() -> dict[str, Any]:
    """The clinician's flow state (search, matches, patient, purpose), kept with the server-side session."""
    return dict(g.portal_session.state) if g.get("portal_session") else {}


def update(**changes: Any) -> dict[str, Any]:
    state_now = get_store().users.update_state(g.portal_token, changes)
    g.portal_session = user_storage.Session(**{**g.portal_session.__dict__, "state": state_now})
    return state_now


def form_nonce() -> str:
    """A one-time value for the form being rendered; the post is refused when it was already used."""
    token = g.get("portal_token")
    if not token:
        return ""
    nonce = secrets.token_urlsafe(16)
    get_store().users.add_nonce(token, nonce)
    return nonce


def consume_nonce() -> bool:
    return get_store().users.consume_nonce(g.portal_token, request.form.get("form_nonce", ""))


def safe_next(value: str | None) -> str | None:
    """A path of this site to go back to after sign-in: no scheme, no host, no control characters or
    spaces (browsers drop tabs and newlines, so "/\t/evil.example" would become "//evil.example")."""
    if not value or len(value) >= 200 or not value.startswith("/") or "\\" in value:
        return None
    if any(ord(ch) <= 32 or ord(ch) == 127 for ch in value) or value.startswith("//"):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def redirect_signin() -> Response:
    return redirect(url_for("portal.signin"))


def clinician(user: user_storage.User) -> Clinician:
    """The signed-in clinician as the assertions name them (the portal authenticated them itself)."""
    return Clinician(id=user.professional_id, name=user.name, role=user.role, organisation=user.organisation,
                     organisation_id=user.organisation_id, language=lang())


def context(purpose: str) -> crossborder.CallContext:
    # the clinician's session abroad is this sign-in: its HCP assertion is kept under the session token's digest
    return crossborder.CallContext(request_id=g.request_id, language=lang(), clinician=clinician(g.portal_user),
                                   purpose=purpose, signer=runtime().signer(),
                                   session=hashlib.sha256((g.portal_token or "").encode()).hexdigest())


def note_clinician(purpose: str | None, country: TrustedCountry | None = None, *,
                   detail: dict[str, Any] | None = None, **fields: Any) -> None:
    user = g.portal_user
    audit_trail.note(actor_type=events.ACTOR_CLINICIAN, actor_id=user.professional_id, actor_role=user.role,
                     organisation=user.organisation_id, purpose=purpose,
                     peer_country=country.code if country else None,
                     detail={"surface": "portal", "username": user.username, **(detail or {})}, **fields)


def country_label(country: TrustedCountry) -> str:
    return portal_view.country_name(country.code, lang(), country.name)


def foreign_countries() -> list[TrustedCountry]:
    rt = runtime()
    trust = rt.trust
    countries = [c for c in (trust.countries.values() if trust else []) if c.code != rt.cfg.code]
    return sorted(countries, key=country_label)


def country(code: str) -> TrustedCountry:
    """A country of the trust list other than this one (else the service's refusal)."""
    rt = runtime()
    return crossborder.foreign_country(rt.trust, code.upper(), rt.cfg.code)


def posted_traits() -> dict[str, str]:
    return {t: request.form.get(t, "").strip()[:100] for t in TRAITS if request.form.get(t, "").strip()}


def _known_country(code: str) -> TrustedCountry | None:
    """``code``'s country while it is still in the trust list (a flow state may outlive it)."""
    try:
        return country(code)
    except GatewayError:
        return None


def current_match() -> tuple[dict[str, Any] | None, TrustedCountry | None]:
    """The one patient the search found, and their country; (None, None) when there is none."""
    flow = state()
    matches = flow.get("matches") or []
    search = flow.get("search") or {}
    if len(matches) != 1 or not search.get("country"):
        return None, None
    found = _known_country(search["country"])
    return (matches[0], found) if found else (None, None)


def current_patient() -> tuple[dict[str, Any] | None, TrustedCountry | None]:
    """The confirmed patient (notice given) and their country; (None, None) when there is none."""
    patient = state().get("patient")
    if not patient or not patient.get("notice"):
        return None, None
    found = _known_country(patient["country"])
    return (patient, found) if found else (None, None)
