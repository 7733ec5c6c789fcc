"""Shared helpers of the build scripts: deterministic, compact JSON output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SOURCES_DIR = Path(__file__).resolve().parent.parent / "sources"


def dump(resource: dict[str, Any]) -> bytes:
    """Compact, deterministic JSON (one resource per file, keys in insertion order)."""
    return orjson.dumps(resource) + b"\n"


def write(path: Path, resource: dict[str, Any]) -> bool:
    """Write ``resource`` to ``path`` if its content changed; True if written."""
    data = dump(resource)
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


SYSTEM_SLUGS: dict[str, str] = {
    "http://snomed.info/sct": "snomed-ct",
    "http://loinc.org": "loinc",
    "http://hl7.org/fhir/sid/icd-10": "icd-10",
    "http://www.whocc.no/atc": "atc",
    "http://standardterms.edqm.eu": "edqm",
    "http://unitsofmeasure.org": "ucum",
    "https://www.orpha.net": "orphanet",
    "urn:ietf:bcp:47": "bcp-47",
    "http://terminology.hl7.org/5.3.0/CodeSystem-ISO3166Part1.html": "iso-3166",
    "urn:oid:1.3.6.1.4.1.12559.11.10.1.3.1.44.4": "ehdsi-display-label",
    "urn:oid:1.3.6.1.4.1.12559.11.10.1.3.1.44.6": "ehdsi-medical-device",
    "urn:oid:2.16.840.1.113883.2.9.6.2.7": "isco-08",
}


def slug(system: str) -> str:
    """A file-name-safe short name for a code system URI."""
    if system in SYSTEM_SLUGS:
        return SYSTEM_SLUGS[system]
    tail = system.rstrip("/").rsplit("/", 1)[-1]
    return "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in tail).strip("-").lower()
