"""Documents embedded in a CDA document (``observationMedia`` / ``nonXMLBody`` with base64 content),
e.g. the PDFs of an IPS-FR DLU; read through the safe reader, decoded strictly."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from gateway.records.cda.reader import HL7, attr, find, parse_cda, text_of

#: what is handed out as an embedded document (anything else stays inside the CDA)
EMBEDDED_TYPES = {"application/pdf": b"%PDF-"}


@dataclass(frozen=True)
class Embedded:
    id: str
    media_type: str
    title: str | None
    data: bytes


def embedded_documents(raw: bytes) -> list[Embedded]:
    """Every embedded document of a known type (a PDF starts with ``%PDF-``; anything else is skipped)."""
    root = parse_cda(raw)
    found: list[Embedded] = []
    for media in root.iter(f"{{{HL7}}}observationMedia"):
        item = _decoded(media.get("ID") or f"media-{len(found) + 1}", find(media, "h:value"), _title(root, media))
        if item:
            found.append(item)
    body = find(root, "h:component/h:nonXMLBody/h:text")
    if body is not None:
        item = _decoded("body", body, text_of(find(root, "h:title")) or None)
        if item:
            found.append(item)
    return found


def embedded_document(raw: bytes, ident: str) -> Embedded | None:
    return next((e for e in embedded_documents(raw) if e.id == ident), None)


def _decoded(ident: str, value: Element | None, title: str | None) -> Embedded | None:
    media_type = attr(value, "mediaType")
    if value is None or media_type not in EMBEDDED_TYPES or attr(value, "representation") != "B64":
        return None
    try:
        data = base64.b64decode("".join((value.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not data.startswith(EMBEDDED_TYPES[media_type]):
        return None
    return Embedded(ident, media_type, title, data)


def _title(root: Element, media: Element) -> str | None:
    """The document type the CI-SIS attaches beside the media (FR-Type-document-attache), if any."""
    for organizer in root.iter(f"{{{HL7}}}organizer"):
        if any(m is media for m in organizer.iter(f"{{{HL7}}}observationMedia")):
            for observation in organizer.iter(f"{{{HL7}}}observation"):
                display = attr(find(observation, "h:value"), "displayName")
                if display:
                    return display
    return None
