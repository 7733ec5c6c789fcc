"""Filling the national record store: documents -> patient records, synthetic seeding, import."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from gateway.config import CountryConfig
from gateway.storage import Store
from gateway.storage.records import PatientRecord

SECTION_ENTRY_COUNT_SKIP = {"Composition", "Patient"}


class DocumentError(ValueError):
    """A document that cannot be stored; ``problems`` lists (JSON path, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


def patient_of(doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    for index, entry in enumerate(doc.get("entry") or []):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Patient":
            return index, resource
    raise DocumentError([("$.entry", "the document has no Patient")])


def record_from_document(doc: dict[str, Any], cfg: CountryConfig, raw: bytes | None = None) -> PatientRecord:
    """Identity traits (from the document's Patient) and the document bytes to store."""
    index, patient = patient_of(doc)
    where = f"$.entry[{index}].resource"
    identifiers = [i for i in patient.get("identifier") or [] if i.get("system") == cfg.identifier.system]
    if not identifiers or not identifiers[0].get("value"):
        raise DocumentError([(f"{where}.identifier",
                              f"the Patient has no identifier in {cfg.identifier.system} ({cfg.identifier.label})")])
    names = patient.get("name") or []
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    problems = []
    if not official.get("family"):
        problems.append((f"{where}.name", "the Patient has no family (birth) name"))
    if not official.get("given"):
        problems.append((f"{where}.name", "the Patient has no given name"))
    if not patient.get("birthDate"):
        problems.append((f"{where}.birthDate", "the Patient has no birth date"))
    if problems:
        raise DocumentError(problems)
    birthplace = None
    for ext in patient.get("extension") or []:
        if ext.get("url") == "http://hl7.org/fhir/StructureDefinition/patient-birthPlace":
            address = ext.get("valueAddress") or {}
            birthplace = address.get("district") or address.get("city")
    entries = sum(1 for e in doc.get("entry") or []
                  if (e.get("resource") or {}).get("resourceType") not in SECTION_ENTRY_COUNT_SKIP)
    from gateway.services.identify import validate_identifier

    value = validate_identifier(cfg.identifier.scheme, identifiers[0]["value"])
    return PatientRecord(
        identifier_system=cfg.identifier.system,
        identifier_value=value,
        family=official["family"],
        given=" ".join(official["given"]),
        birthdate=patient["birthDate"],
        gender=patient.get("gender", "unknown"),
        birthplace=birthplace,
        document=raw if raw is not None else orjson.dumps(doc),
        language=doc.get("language") or (doc.get("entry") or [{}])[0].get("resource", {}).get("language"),
        entries=entries,
    )


def synthetic_records(cfg: CountryConfig, count: int, seed: int, start: int = 0) -> Iterator[PatientRecord]:
    from gateway.records.synthetic import generate_patient

    for index in range(start, start + count):
        _traits, doc = generate_patient(cfg.code, index, seed)
        yield record_from_document(doc, cfg)


def seed_population(store: Store, cfg: CountryConfig, count: int, seed: int, batch: int = 2000,
                    progress=None) -> dict[str, int]:  # noqa: ANN001
    """Generate and store ``count`` synthetic patients in batches (one transaction per batch)."""
    totals = {"imported": 0, "updated": 0, "unchanged": 0}
    for start in range(0, count, batch):
        size = min(batch, count - start)
        counts = store.records.save_records(synthetic_records(cfg, size, seed, start))
        for key, value in counts.items():
            totals[key] += value
        if progress is not None:
            progress(size)
    return totals


def store_documents(store: Store, cfg: CountryConfig, docs: Iterable[dict[str, Any]]) -> dict[str, int]:
    return store.records.save_records(record_from_document(doc, cfg) for doc in docs)
