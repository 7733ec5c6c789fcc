"""The summary in the portal: fetched from the patient's country once per session (audited), translated
through the partner API's path and cache (``crossborder.translate_received`` with ``Runtime.summaries``),
shown as a page, printable, and downloadable as PDF.

What is derived from a translated summary is built once and kept on the runtime object: the view model
and its sections' HTML per (document digest, language, terminology, country's labels), the PDF per the same and what it names
besides (clinician, purpose, when A's document was received), so a PDF served again is byte for byte the
one built the first time. A session's documents and PDFs are dropped at sign-out, a new search, or expiry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Response, g, render_template, url_for
from markupsafe import Markup

from gateway import audit_trail
from gateway.audit import events
from gateway.runtime import runtime
from gateway.security import policy
from gateway.security.trustlist import TrustedCountry
from gateway.services import crossborder
from gateway.services.terminology import Translated
from gateway.surfaces import portal_view
from gateway.surfaces.portal.base import PURPOSES, bp, context, country_label, current_patient, lang, note_clinician, state
from gateway.surfaces.portal.pages import on_error, problem
from gateway.surfaces.portal_pdf import render_pdf


@dataclass(frozen=True)
class Received:
    """A document as country A sent it to this session, and when."""

    body: bytes
    at: float  # time.time() of receipt


def _session_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def forget_summaries(token: str) -> None:
    """Drop what this session kept (A's documents, the PDFs naming its clinician)."""
    digest = _session_digest(token)
    caches = runtime().summaries
    caches.received.discard(lambda key: key[0] != digest)
    caches.pdfs.discard(lambda key: key[0] != digest)


def _fetch_summary(patient: dict[str, Any], country: TrustedCountry, purpose: str) -> Received:
    """The document as country A sent it (its exact bytes): from A (audited), or again from this session's
    short cache.

    The summary is kept in memory only, for a few minutes, for this session (print, PDF, another
    language); it is never written to disk at this side.
    """
    rt = runtime()
    key = (_session_digest(g.portal_token), patient["id"], purpose)
    hit = rt.summaries.received.get(key)
    if hit is not None:
        return hit
    _code, remote_id = crossborder.split_local_id(patient["id"])
    audit_trail.note(event=events.SUMMARY, side=events.REQUESTING, patient_id=patient["id"])
    note_clinician(purpose, country)
    body = crossborder.summary_bytes_abroad(rt.peers, country, remote_id, context(purpose))
    translated = _translated(country, body)  # checks it too
    audit_trail.note(detail={"document_id": translated.document_id, "document_sha256": translated.received_sha256})
    received = Received(body, time.time())
    rt.summaries.received.put(key, received)
    return received


def _translated(country: TrustedCountry, body: bytes) -> Translated:
    rt = runtime()
    return crossborder.translate_received(rt.peers, country, body, lang(), rt.terminology, rt.summaries)


@dataclass(frozen=True)
class Shown:
    """A summary as the portal shows it: the view model, its sections rendered (HTML: they depend on the view
    and the interface language only), whether A keeps an original, the cache key."""

    view: portal_view.SummaryView
    sections: Markup
    has_original: bool
    key: tuple[Any, ...]


def _shown(country: TrustedCountry, body: bytes) -> Shown:
    """The view model of A's document in the clinician's language, built once per key in this process."""
    rt = runtime()
    translated = _translated(country, body)
    key = (*crossborder.summary_key(body, lang(), rt.terminology), country.code, country.identifier_system,
           country.identifier_label, country_label(country))

    def build() -> Shown:
        document = orjson.loads(translated.body)
        view = portal_view.summary_view(document, lang(), country_code=country.code,
                                        country_label=country_label(country),
                                        identifier_labels={country.identifier_system: country.identifier_label},
                                        coverage=translated.coverage, term=rt.terminology)
        sections = Markup(render_template("portal/_sections.html", view=view))  # rendered with autoescape
        return Shown(view, sections, crossborder.has_original(document), key)

    return rt.summaries.views.get_or_build(key, build, weigh=lambda _shown: len(translated.body))


def _current_summary() -> tuple[dict[str, Any], TrustedCountry, str, Received, Shown] | None:
    """(patient, country, purpose, document received, what is shown); None when no patient is chosen.
    A refusal (policy, the patient's country) is raised for the portal's refusal page."""
    patient, country = current_patient()
    purpose = state().get("purpose")
    if patient is None or country is None or not purpose:
        return None
    on_error(country, retry=url_for("portal.summary"))
    policy.check(g.portal_user.role, purpose)
    received = _fetch_summary(patient, country, purpose)
    return patient, country, purpose, received, _shown(country, received.body)


@bp.get("/summary")
def summary():  # noqa: ANN201
    current = _current_summary()
    if current is None:
        return problem("NO_PATIENT", status=409)
    patient, country, purpose, _received, shown = current
    return render_template("portal/summary.html", view=shown.view, sections=shown.sections, patient=patient,
                           country=country, purpose=PURPOSES.get(purpose, ""), has_original=shown.has_original)


@bp.get("/summary.pdf")
def summary_pdf():  # noqa: ANN201
    current = _current_summary()
    if current is None:
        return problem("NO_PATIENT", status=409)
    patient, country, purpose, received, shown = current
    audit_trail.note(event=events.SUMMARY, side=events.REQUESTING, patient_id=patient["id"],
                     detail={"export": "pdf"})
    note_clinician(purpose, country)
    user = g.portal_user
    key = (_session_digest(g.portal_token), *shown.key, user.professional_id, user.name, user.organisation,
           purpose, received.at)
    rt = runtime()
    data = rt.summaries.pdfs.get_or_build(
        key, lambda: render_pdf(shown.view, clinician=user, language=lang(), purpose=str(PURPOSES.get(purpose, "")),
                                fonts=rt.pdf_fonts, now=dt.datetime.fromtimestamp(received.at, dt.UTC)), weigh=len)
    stamp = time.strftime("%Y%m%d-%H%M")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="patient-summary-{country.code.lower()}-{stamp}.pdf"'})
