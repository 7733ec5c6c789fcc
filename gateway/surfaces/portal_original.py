"""The portal's "original document": the clinical document a foreign summary was converted from (a French
CI-SIS CDA), and the documents embedded in it (PDFs), fetched from the patient's country on request.

Each fetch is a cross-border call like the summary's (same clinician, purpose, assertions; audited). Nothing
is kept at this side: the page lists what the CDA embeds, the downloads fetch again.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, render_template, url_for

from gateway import audit_trail
from gateway.audit import events
from gateway.records.cda.attachments import embedded_documents
from gateway.records.cda.reader import CdaError
from gateway.runtime import runtime
from gateway.security import policy
from gateway.services import crossborder
from gateway.surfaces.portal.base import bp, context, country_label, current_patient, note_clinician, state
from gateway.surfaces.portal.pages import on_error, problem


def _fetch(attachment: str | None) -> tuple[crossborder.OriginalDocument | None, Any, Any]:
    """(document, patient, country), or (None, problem response, None); a refusal is raised for the
    portal's refusal page."""
    patient, country = current_patient()
    purpose = state().get("purpose")
    if patient is None or country is None or not purpose:
        return None, problem("NO_PATIENT", status=409), None
    audit_trail.note(event=events.SUMMARY, side=events.REQUESTING, patient_id=patient["id"],
                     detail={"original_document": attachment or "cda"})
    note_clinician(purpose, country)
    on_error(country, retry=url_for("portal.original"))
    policy.check(g.portal_user.role, purpose)
    _code, remote_id = crossborder.split_local_id(patient["id"])
    document = crossborder.original_abroad(runtime().peers, country, remote_id, context(purpose), attachment)
    audit_trail.note(detail={"document_sha256": document.sha256})
    return document, patient, country


@bp.get("/original")
def original():  # noqa: ANN201
    document, patient, country = _fetch(None)
    if document is None:
        return patient  # the problem page
    try:
        embedded = [(e.id, e.title or e.id) for e in embedded_documents(document.data)]
    except CdaError:  # checked when it arrived: cannot happen, fail closed all the same
        embedded = []
    return render_template("portal/original.html", patient=patient, country=country, embedded=embedded,
                           country_label=country_label(country),
                           size=len(document.data))


@bp.get("/original/document")
def original_download():  # noqa: ANN201
    return _download(None)


@bp.get("/original/embedded/<ident>")
def original_embedded(ident: str):  # noqa: ANN201
    return _download(ident)


def _download(attachment: str | None) -> Response:
    document, patient, country = _fetch(attachment)
    if document is None:
        return patient
    suffix = "pdf" if document.media_type == "application/pdf" else "xml"
    name = f"original-{country.code.lower()}-{attachment or 'document'}.{suffix}"
    return Response(document.data, mimetype=document.media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"})
