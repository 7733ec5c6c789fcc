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
a URL.

One concern per module: :mod:`.base` (blueprint, session state, labels), :mod:`.pages` (error catalogue,
notices, the one refusal renderer, security headers), :mod:`.auth` (sign-in, TOTP, lockout, sign-out, the
pending search), :mod:`.flow` (search -> identification -> confirmation -> declaration), :mod:`.summary`
(the summary page and PDF); the view model is :mod:`gateway.surfaces.portal_view`, the PDF
:mod:`gateway.surfaces.portal_pdf`, the original document :mod:`gateway.surfaces.portal_original`.
"""

from __future__ import annotations

from flask import Flask

from gateway import i18n
from gateway.storage import users as user_storage
from gateway.surfaces.portal import auth, flow, summary  # noqa: F401 - their routes join the blueprint
from gateway.surfaces.portal.base import bp, clinician, csrf, role_label
from gateway.surfaces.portal.flow import validate_traits
from gateway.surfaces.portal.pages import (
    not_allowed,
    patient_notice,
    problem,
    render_error,
    security_headers,
    template_globals,
)

__all__ = ["bp", "clinician", "csrf", "init_app", "not_allowed", "patient_notice", "problem", "render_error",
           "role_label", "security_headers", "template_globals", "validate_traits"]


def init_app(app: Flask) -> None:
    """Interface languages (Flask-Babel) and CSRF protection of the portal's forms (Flask-WTF)."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # only the portal's forms: the FHIR APIs use tokens
    app.config["WTF_CSRF_TIME_LIMIT"] = user_storage.ABSOLUTE_TIMEOUT
    csrf.init_app(app)
    i18n.init_app(app)
    app.context_processor(template_globals)
