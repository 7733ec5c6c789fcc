"""The flow to a patient: choose the country (from the trust list) -> a form built from its search mask
-> identification abroad -> confirm the identity and give the patient information notice -> declare the
treatment relationship and the purpose; then the summary (:mod:`gateway.surfaces.portal.summary`).

Refusals of the services (unknown country, policy, the patient's country) are raised to the portal's one
refusal renderer (:func:`gateway.surfaces.portal.pages.refused`), told first what to offer
(:func:`~gateway.surfaces.portal.pages.on_error`).
"""

from __future__ import annotations

import time
from typing import Any

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from gateway import audit_trail
from gateway.audit import events
from gateway.errors import GatewayError
from gateway.records.identifiers import IDENTIFIER_SCHEMES, IdentifierError
from gateway.runtime import runtime
from gateway.security import policy
from gateway.security.trustlist import TrustedCountry
from gateway.services import crossborder
from gateway.surfaces import portal_view
from gateway.surfaces.portal.base import (
    PURPOSES,
    TRAIT_LABELS,
    TRAITS,
    bp,
    consume_nonce,
    context,
    country,
    country_label,
    current_match,
    current_patient,
    foreign_countries,
    lang,
    note_clinician,
    posted_traits,
    state,
    update,
)
from gateway.surfaces.portal.pages import not_allowed, on_error, patient_notice, problem
from gateway.surfaces.portal.summary import forget_summaries


@bp.get("/")
def index():  # noqa: ANN201
    user = g.portal_user
    if user.role not in policy.ROLES:
        return not_allowed()
    if runtime().trust is None:
        return problem("TRUST_LIST_INVALID", status=503)
    countries = [(c, country_label(c)) for c in foreign_countries()]
    return render_template("portal/index.html", countries=countries, state=state())


@bp.post("/new")
def new_search():  # noqa: ANN201
    update(search=None, matches=None, patient=None, purpose=None)
    forget_summaries(g.portal_token)
    return redirect(url_for("portal.index"))


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


def _trait_problem(country: TrustedCountry, trait: str, value: str) -> tuple[str, str | None]:
    """(the value to search with, or what is wrong with it) for one trait the country's mask has."""
    if any(ord(ch) < 32 for ch in value) or "<" in value or ">" in value:
        return value, _("This field contains characters that are not allowed.")
    if trait == "identifier":
        scheme = IDENTIFIER_SCHEMES.get(country.identifier_scheme)
        try:
            return (scheme.validate(value) if scheme else value), None
        except IdentifierError:
            return value, _("This %(label)s is not valid: check every character and the check key.",
                            label=country.identifier_label)
    if trait == "birthdate":
        try:
            born = time.strptime(value, "%Y-%m-%d")
            if time.mktime(born) > time.time():
                raise ValueError
        except (ValueError, OverflowError):
            return value, _("Give a real date of birth, not in the future.")
    elif trait == "gender" and value not in portal_view.GENDERS:
        return value, _("Choose one of the values offered.")
    return value, None


def validate_traits(country: TrustedCountry, traits: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(clean traits, errors by field) against the country's search mask and its identifier's rule."""
    problems: dict[str, str] = {}
    clean: dict[str, str] = {}
    for trait in country.search_mask:
        if not traits.get(trait):
            problems[trait] = _("%(trait)s is required by %(country)s.", trait=str(TRAIT_LABELS[trait]),
                                country=country_label(country))
    for trait, value in traits.items():
        if trait not in country.search_mask or trait in problems:
            continue
        value, wrong = _trait_problem(country, trait, value)
        if wrong:
            problems[trait] = wrong
        else:
            clean[trait] = value
    return clean, problems


def _search_page(country: TrustedCountry, values: dict[str, str], problems: dict[str, str], status: int = 200):  # noqa: ANN202
    return render_template("portal/search.html", country=country, values=values, problems=problems,
                           country_label=country_label(country),
                           mask=[t for t in TRAITS if t in country.search_mask], labels=TRAIT_LABELS,
                           genders=portal_view.GENDERS, hint=_identifier_hint(country)), status


@bp.get("/search/<code>")
def search_form(code: str):  # noqa: ANN201
    if g.portal_user.role not in policy.ROLES:
        return not_allowed()
    chosen = country(code)
    search = state().get("search") or {}
    values = search.get("traits", {}) if search.get("country") == chosen.code else {}
    return _search_page(chosen, values, {})


def _identify(chosen: TrustedCountry, traits: dict[str, str]):  # noqa: ANN202
    """Ask the patient's country to identify them; a page for the outcome."""
    note_clinician(policy.TREATMENT, chosen, detail={"parameters": sorted(traits)})
    query = dict(traits)
    if "identifier" in query:
        query["identifier"] = f"{chosen.identifier_system}|{traits['identifier']}"
    on_error(chosen, retry=url_for("portal.search_retry", code=chosen.code), retry_post=True)
    found = crossborder.identify_abroad(runtime().peers, chosen, query, context(policy.TREATMENT))
    audit_trail.note(detail={"matches": len(found)},
                     patient_id=found[0]["id"] if len(found) == 1 else None)
    if not found:
        return problem("NO_MATCH", status=200, country=chosen, search_again=True)
    if len(found) > 1:
        return problem("SEVERAL_MATCHES", status=200, country=chosen, search_again=True)
    update(matches=[_identity(found[0])], patient=None, purpose=None)
    return redirect(url_for("portal.confirm"))


def _searchable(code: str) -> TrustedCountry:
    """The country to search, once the clinician's role may search for treatment (else a refusal)."""
    chosen = country(code)
    policy.check(g.portal_user.role, policy.TREATMENT)
    return chosen


@bp.post("/search/<code>")
@audit_trail.audited(events.IDENTIFY, events.REQUESTING)
def search_submit(code: str):  # noqa: ANN201
    if not consume_nonce():
        audit_trail.note(outcome_code="FORM_REPLAYED")
        return problem("FORM_REPLAYED", status=409)
    chosen = _searchable(code)
    posted = posted_traits()
    traits, problems = validate_traits(chosen, posted)
    update(search={"country": chosen.code, "traits": posted}, matches=None, patient=None, purpose=None)
    if problems:
        audit_trail.note(skip=True)  # nothing left the country
        return _search_page(chosen, posted, problems, status=400)
    return _identify(chosen, traits)


@bp.post("/search/<code>/retry")
@audit_trail.audited(events.IDENTIFY, events.REQUESTING)
def search_retry(code: str):  # noqa: ANN201
    if not consume_nonce():
        audit_trail.note(outcome_code="FORM_REPLAYED")
        return problem("FORM_REPLAYED", status=409)
    search = state().get("search") or {}
    chosen = _searchable(code)
    if search.get("country") != chosen.code:
        audit_trail.note(skip=True)
        return problem("NO_PATIENT", status=409)
    traits, problems = validate_traits(chosen, search.get("traits") or {})
    if problems:
        audit_trail.note(skip=True)
        return _search_page(chosen, search.get("traits") or {}, problems, status=400)
    return _identify(chosen, traits)


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


@bp.get("/patient")
def confirm():  # noqa: ANN201
    match, chosen = current_match()
    if match is None or chosen is None:
        return problem("NO_PATIENT", status=409)
    return _confirm_page(match, chosen, None)


def _confirm_page(match: dict[str, Any], chosen: TrustedCountry, error: Any, status: int = 200):  # noqa: ANN202
    return render_template(
        "portal/confirm.html", match=match, country=chosen, error=error,
        country_label=country_label(chosen),
        birth=portal_view.date_view(match.get("birthdate"), lang()),
        gender=portal_view.GENDERS.get(match.get("gender", ""), match.get("gender")),
        identifier_label=lambda system: chosen.identifier_label if system == chosen.identifier_system else system,
        notice=patient_notice(chosen),
    ), status


@bp.post("/patient")
def confirm_submit():  # noqa: ANN201
    if not consume_nonce():
        return problem("FORM_REPLAYED", status=409)
    match, chosen = current_match()
    if match is None or chosen is None:
        return problem("NO_PATIENT", status=409)
    if request.form.get("identity") != "confirmed" or request.form.get("notice") != "accepted":
        return _confirm_page(match, chosen, _l("Confirm the patient's identity and that the patient information "
                                               "notice was given before you continue."), status=400)
    update(patient={**match, "country": chosen.code, "notice": True}, purpose=None)
    return redirect(url_for("portal.declare"))


def _purposes_for(role: str) -> list[tuple[str, str]]:
    entry = policy.ROLES.get(role)
    return [(p, str(PURPOSES[p])) for p in policy.PURPOSES if entry and p in entry.purposes]


def _declare_page(patient: dict[str, Any], chosen: TrustedCountry, error: Any, status: int = 200):  # noqa: ANN202
    return render_template("portal/declare.html", patient=patient, country=chosen, error=error,
                           purposes=_purposes_for(g.portal_user.role), country_label=country_label(chosen)), status


@bp.get("/declare")
def declare():  # noqa: ANN201
    patient, chosen = current_patient()
    if patient is None or chosen is None:
        return problem("NO_PATIENT", status=409)
    if g.portal_user.role not in policy.ROLES:
        return not_allowed()
    return _declare_page(patient, chosen, None)


@bp.post("/declare")
def declare_submit():  # noqa: ANN201
    if not consume_nonce():
        return problem("FORM_REPLAYED", status=409)
    patient, chosen = current_patient()
    if patient is None or chosen is None:
        return problem("NO_PATIENT", status=409)
    purpose = request.form.get("purpose", "")
    try:
        policy.check(g.portal_user.role, purpose)
    except GatewayError:  # refused before anything leaves, recorded like the same refusal later on
        audit_trail.note(event=events.SUMMARY, side=events.REQUESTING, patient_id=patient["id"])
        note_clinician(purpose or None, chosen)
        on_error(chosen)
        raise
    if request.form.get("relationship") != "declared":
        return _declare_page(patient, chosen, _l("Declare your treatment relationship with the patient to "
                                                 "continue."), status=400)
    update(purpose=purpose)
    return redirect(url_for("portal.summary"))
