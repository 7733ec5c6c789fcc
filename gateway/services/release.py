"""Release at country A: what another country's NCPeH receives of a patient's summary.

The NCPeH-to-NCPeH API parses the request and renders; this module decides: the patient must exist,
have a current summary and allow cross-border access (consent), and the summary leaves transcoded to
the eHDSI pivot codes (once per stored version and process: ``services.terminology``'s release cache).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway import errors, timing
from gateway.records.cda.attachments import embedded_document
from gateway.services import terminology as terminology_service
from gateway.services.caches import BoundedCache
from gateway.storage.records import RecordStore, StoredOriginal, StoredSummary
from terminology import Terminology


@dataclass(frozen=True)
class ReleasedSummary:
    """The summary as it leaves (``released``) and the stored version it was made from."""

    version: int
    released: terminology_service.Released


def releasable_summary(store: RecordStore, patient_id: str) -> StoredSummary:
    """The patient's current summary version (without its document), if there is one and the patient
    allows cross-border access: else 404 ``UNKNOWN_PATIENT`` or 403 ``ACCESS_REFUSED``."""
    with timing.stage("store"):
        patient = store.get_patient(patient_id)
        summary = store.current_summary(patient_id, with_document=False) if patient else None
    if patient is None or summary is None:
        raise errors.NotFound("No patient summary for this patient id.", code="UNKNOWN_PATIENT")
    if patient.consent != "allowed":
        raise errors.ConsentRefused()
    return summary


def release_summary(store: RecordStore, patient_id: str, country_code: str, term: Terminology,
                    cache: BoundedCache) -> ReleasedSummary:
    """The patient's current summary, transcoded for release by ``country_code`` (this country), kept in
    ``cache`` (the runtime's release cache) by content hash."""
    summary = releasable_summary(store, patient_id)
    released = terminology_service.cached_release(cache, summary.sha256, country_code, term)
    if released is None:  # first release of this stored version in this process: read, transcode, cache
        with timing.stage("store"):
            document = store.summary_document(patient_id, summary.version)
        if document is None:
            raise errors.NotFound("No patient summary for this patient id.", code="UNKNOWN_PATIENT")
        released = terminology_service.release_document(cache, document, summary.sha256, country_code, term)
    return ReleasedSummary(summary.version, released)


def original_document(store: RecordStore, patient_id: str) -> StoredOriginal:
    """The original clinical document (a CI-SIS CDA) the current summary was converted from, with the same
    checks as the summary (404 ``NO_ORIGINAL_DOCUMENT`` when the summary is the original)."""
    summary = releasable_summary(store, patient_id)
    original = store.original_document(patient_id, summary.version)
    if original is None:
        raise errors.NotFound("The patient summary is the original document: there is no other.",
                              code="NO_ORIGINAL_DOCUMENT")
    return original


def original_content(original: StoredOriginal, attachment: str | None) -> tuple[bytes, str]:
    """(bytes, media type) of the original document, or of the document it embeds as ``attachment``."""
    if not attachment:
        return original.document, original.media_type
    embedded = embedded_document(original.document, attachment)
    if embedded is None:
        raise errors.NotFound("The original document embeds no document with this id.", code="NO_ORIGINAL_DOCUMENT")
    return embedded.data, embedded.media_type
