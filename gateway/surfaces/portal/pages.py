"""The portal's pages of what went wrong, and what every page shares.

One place for the error catalogue (what happened, what to do next, in the clinician's language), the
patient information notices, the one registered renderer of the blueprint's refusals (every
:class:`~gateway.errors.GatewayError` a portal view raises becomes a page here, recorded as the request's
outcome), the security headers and the template globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, g, get_flashed_messages, render_template
from flask_babel import lazy_gettext as _l

from gateway import audit_trail, i18n
from gateway.errors import GatewayError
from gateway.runtime import runtime
from gateway.security import policy
from gateway.security.trustlist import TrustedCountry
from gateway.surfaces import portal_view
from gateway.surfaces.portal.base import PURPOSES, bp, form_nonce, lang, role_label

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
_PEER_CODES = {"PEER_UNAVAILABLE", "PEER_UNREACHABLE", "PEER_TLS_FAILURE", "PEER_CIRCUIT_OPEN", "PEER_BUSY"}
_POLICY_CODES = {"ROLE_NOT_ALLOWED", "ROLE_MISSING", "PURPOSE_NOT_ALLOWED", "PURPOSE_OF_USE_MISSING"}


def patient_notice(country: TrustedCountry) -> list[str]:
    """The patient information notice of ``country``, in the clinician's language."""
    name = portal_view.country_name(country.code, lang(), country.name)
    paragraphs = [str(p) % {"country": name} for p in NOTICE_COMMON]
    if country.code in NOTICE_COUNTRY:
        paragraphs.insert(0, str(NOTICE_COUNTRY[country.code]))
    return paragraphs


def problem(code: str, *, status: int, country: TrustedCountry | None = None, retry: str | None = None,
            retry_post: bool = False, detail_code: str | None = None, **extra: Any) -> tuple[str, int]:
    """A page saying what happened and what to do next, in the clinician's language.

    ``retry``: where the "Try again" button leads (a POST form with a fresh nonce when ``retry_post``).
    """
    key = "PEER_UNAVAILABLE" if code in _PEER_CODES else code
    if key not in PROBLEMS:
        key = "REFUSED_BY_COUNTRY" if country is not None and status < 500 else "INTERNAL_ERROR"
    title, what, next_step = PROBLEMS[key]
    name = portal_view.country_name(country.code, lang(), country.name) if country else ""
    body = render_template("portal/problem.html", code=key, detail_code=detail_code or code, title=title,
                           what=str(what) % {"country": name, "code": detail_code or code}, next_step=next_step,
                           retry=retry, retry_post=retry_post, country=country, **extra)
    return body, status


def not_allowed(code: str = "ROLE_NOT_ALLOWED", status: int = 403) -> tuple[str, int]:
    """What the clinician's profession may do, and which professions may retrieve summaries."""
    user = g.portal_user
    allowed = [(role_label(r.code), sorted(str(PURPOSES[p]) for p in r.purposes)) for r in policy.ROLES.values()]
    own = policy.ROLES.get(user.role)
    own_purposes = sorted(str(PURPOSES[p]) for p in own.purposes) if own else []
    title, what, next_step = PROBLEMS.get(code, PROBLEMS["ROLE_NOT_ALLOWED"])
    return render_template("portal/not_allowed.html", title=title, what=what, next_step=next_step, allowed=allowed,
                           own_purposes=own_purposes, code=code), status


@dataclass(frozen=True)
class OnError:
    """What the refusal page of the current step offers: the country asked, where "Try again" leads."""

    country: TrustedCountry | None = None
    retry: str | None = None
    retry_post: bool = False


def on_error(country: TrustedCountry | None = None, retry: str | None = None, retry_post: bool = False) -> None:
    """Say, before calling a service, what a refusal page of this step names and offers."""
    g.portal_on_error = OnError(country, retry, retry_post)


@bp.errorhandler(GatewayError)
def refused(exc: GatewayError) -> tuple[str, int, Any]:
    """The one renderer of the portal's refusals: recorded as the request's outcome, then a page."""
    audit_trail.note(outcome_code=exc.code)
    where: OnError = g.get("portal_on_error") or OnError()
    if exc.code in _POLICY_CODES and g.get("portal_user") is not None:
        body, status = not_allowed(exc.code, status=403)
    elif exc.code == "NO_SUCH_ENDPOINT":
        body, status = problem("NOT_FOUND", status=404)
    else:
        body, status = problem(exc.code, status=exc.status, country=where.country, detail_code=exc.code,
                               retry=where.retry if exc.status >= 500 else None, retry_post=where.retry_post)
    return body, status, exc.headers


def render_error(error: GatewayError, request_id: str | None) -> tuple[str, int, Any]:
    """A portal page for an error outside the portal's views (called by ``gateway.app``)."""
    if error.code == "NO_SUCH_ENDPOINT":
        body, status = problem("NOT_FOUND", status=404)
    else:
        body, status = problem(error.code, status=error.status)
    return body, status, error.headers


@bp.after_request
def security_headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers.setdefault("Content-Language", lang())
    return resp


def template_globals() -> dict[str, Any]:
    """What every portal page uses (app-wide: the page of an unknown address is a portal page too)."""
    user = g.get("portal_user")
    cfg = runtime().cfg
    return {
        "cfg": cfg, "user": user, "lang": lang(), "languages": i18n.LANGUAGES,
        "form_nonce": form_nonce, "role_label": role_label, "request_id": g.get("request_id"),
        "notices": get_flashed_messages(category_filter=["notice"]),
        "own_country": portal_view.country_name(cfg.code, lang(), cfg.name),
        "language_name": lambda code: portal_view.language_name(code, lang()),
        "kind_label": portal_view.kind_label,
    }
