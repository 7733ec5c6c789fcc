"""Filling the national record store: documents -> patient records, synthetic seeding, import."""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from gateway.config import CountryConfig
from gateway.records.cda.convert import CDA_MEDIA_TYPE, convert_cda
from gateway.records.cda.reader import MAX_CDA_BYTES, CdaError, looks_like_xml
from gateway.records.cda.writer import ips_to_cda
from gateway.records.ips_validation import (
    DocumentParseError,
    birthplace_of,
    parse_json_document,
    validate_ips,
)
from gateway.records.synthetic import generate_patient
from gateway.services.identify import validate_identifier
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
    birthplace = birthplace_of(patient)
    entries = sum(1 for e in doc.get("entry") or []
                  if (e.get("resource") or {}).get("resourceType") not in SECTION_ENTRY_COUNT_SKIP)
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


def synthetic_records(cfg: CountryConfig, count: int, seed: int, start: int = 0,
                      size: str | None = None) -> Iterator[PatientRecord]:
    for index in range(start, start + count):
        _traits, doc = generate_patient(cfg.code, index, seed, size=size)
        yield record_from_document(doc, cfg)


def synthetic_cda_records(cfg: CountryConfig, count: int, seed: int, start: int = 0,
                          size: str | None = None) -> Iterator[PatientRecord]:
    """The same synthetic patients, their summaries written as IPS-FR CDA documents and imported back
    through the CDA import (:func:`check_cda`): the whole pipeline, at scale."""
    if cfg.code != "FR":
        raise ValueError(f"CDA documents are the French national format: no CDA population for {cfg.code}")
    for index in range(start, start + count):
        _traits, doc = generate_patient(cfg.code, index, seed, size=size)
        record, problems, _made, _notes = check_cda(ips_to_cda(doc), cfg)
        if record is None:  # a document this code wrote and cannot read back: a bug, never stored half
            raise ValueError(f"synthetic CDA document {index} was refused: {problems[:3]}")
        yield record


def _synthetic_batch(cfg: CountryConfig, count: int, seed: int, start: int, size: str | None,
                     fmt: str = "fhir") -> list[PatientRecord]:
    if fmt == "cda":
        return list(synthetic_cda_records(cfg, count, seed, start, size))
    return list(synthetic_records(cfg, count, seed, start, size))


def seed_population(store: Store, cfg: CountryConfig, count: int, seed: int, batch: int = 1000, *,
                    start: int = 0, size: str | None = None, fmt: str = "fhir",
                    progress=None, processes: int | None = None) -> dict[str, int]:  # noqa: ANN001
    """Generate ``count`` synthetic patients (in parallel processes) and store them in batches.

    Generation is spread over the machine's cores; one writer stores each batch in one transaction.
    The same (country, count, seed) always gives the same people. ``fmt="cda"``: their summaries go
    through the CDA import (written as IPS-FR CDA documents, kept as the originals).
    """
    if fmt == "cda" and cfg.code != "FR":
        raise ValueError(f"CDA documents are the French national format: no CDA population for {cfg.code}")
    totals = {"imported": 0, "updated": 0, "unchanged": 0}
    end = start + count
    starts = list(range(start, end, batch))
    processes = processes or min(os.cpu_count() or 1, max(1, len(starts)))

    def store_batch(records: list[PatientRecord]) -> None:
        counts = store.records.save_records(records)
        for key, value in counts.items():
            totals[key] += value
        if progress is not None:
            progress(len(records))

    if processes <= 1 or len(starts) <= 1:
        for first in starts:
            store_batch(_synthetic_batch(cfg, min(batch, end - first), seed, first, size, fmt))
        return totals
    # A bounded window of batches in flight keeps memory flat for millions of patients.
    window: deque = deque()
    with ProcessPoolExecutor(max_workers=processes) as pool:
        for first in starts:
            window.append(pool.submit(_synthetic_batch, cfg, min(batch, end - first), seed, first, size, fmt))
            if len(window) >= 2 * processes:
                store_batch(window.popleft().result())
        while window:
            store_batch(window.popleft().result())
    return totals


def store_documents(store: Store, cfg: CountryConfig, docs: Iterable[dict[str, Any]]) -> dict[str, int]:
    return store.records.save_records(record_from_document(doc, cfg) for doc in docs)


# --- import --------------------------------------------------------------------------------------

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
IMPORT_BATCH = 500
#: a batch is also stored once it holds this many bytes (CDA originals may weigh megabytes each)
IMPORT_BATCH_BYTES = 64 * 1024 * 1024
#: what a folder import picks up: FHIR JSON, NDJSON and CDA XML
DOCUMENT_SUFFIXES = (".json", ".ndjson", ".xml")


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    #: CDA documents converted: (where, what was made, [(XPath, entry kept in the narrative only)])
    converted: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)

    def summary_line(self) -> str:
        return (f"imported {self.imported}, updated {self.updated}, unchanged {self.unchanged}, "
                f"rejected {len(self.rejected)}")


def _documents_in(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, raw bytes) of every document in a file, an NDJSON file or a folder (recursively)."""
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.suffix in DOCUMENT_SUFFIXES and p.is_file()):
            yield from _documents_in(child)
        return
    if path.suffix == ".ndjson":
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield f"{path}:{number}", line
        return
    if path.stat().st_size > max(MAX_DOCUMENT_BYTES, MAX_CDA_BYTES):  # reported as too large, never read whole
        if path.suffix == ".xml":
            yield str(path), b"<" * (MAX_CDA_BYTES + 1)
        else:
            yield str(path), b"\x00" * (MAX_DOCUMENT_BYTES + 1)
        return
    yield str(path), path.read_bytes()


def count_documents(paths: Iterable[Path]) -> int:
    total = 0
    for path in paths:
        if path.is_dir():
            total += count_documents(p for p in path.rglob("*") if p.suffix in DOCUMENT_SUFFIXES and p.is_file())
        elif path.suffix == ".ndjson":
            with path.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        else:
            total += 1
    return total


def check_document(raw: bytes, cfg: CountryConfig) -> tuple[PatientRecord | None, list[tuple[str, str]]]:
    """Parse and validate one document; returns the record to store, or every problem by JSON path."""
    try:
        doc = parse_json_document(raw, MAX_DOCUMENT_BYTES)
    except DocumentParseError as exc:
        return None, [exc.problem.as_tuple()]
    problems = [p.as_tuple() for p in validate_ips(doc, country_identifier_system=cfg.identifier.system)]
    if problems:
        return None, problems
    try:
        return record_from_document(doc, cfg, orjson.dumps(doc)), []
    except DocumentError as exc:
        return None, exc.problems
    except Exception as exc:  # noqa: BLE001 - e.g. an identifier failing its check rule
        return None, [("$", str(exc))]


def check_cda(raw: bytes, cfg: CountryConfig) -> tuple[PatientRecord | None, list[tuple[str, str]], str,
                                                     list[tuple[str, str]]]:
    """Read, check and convert one CI-SIS CDA document: (record with the CDA as its original, problems by
    XPath, what was made, entries kept in the narrative only)."""
    try:
        converted = convert_cda(raw, cfg.identifier.system)
    except CdaError as exc:
        return None, exc.problems, "", []
    problems = [("IPS " + p.path, p.message)
                for p in validate_ips(converted.bundle, country_identifier_system=cfg.identifier.system)]
    if problems:  # a conversion this code cannot stand behind is refused, not stored
        return None, problems, "", []
    try:
        record = record_from_document(converted.bundle, cfg, orjson.dumps(converted.bundle))
    except DocumentError as exc:
        return None, exc.problems, "", []
    except Exception as exc:  # noqa: BLE001 - e.g. an identifier failing its check rule
        return None, [("/ClinicalDocument/recordTarget", str(exc))], "", []
    rep = converted.report
    entries = sum(s[2] for s in rep.sections)
    mapped = sum(s[3] for s in rep.sections)
    made = (f"{rep.volet.name} {rep.volet.version}: {len(rep.sections)} sections, {mapped} of {entries} entries"
            f" mapped" + (f", {len(rep.partial)} coded details in the narrative only" if rep.partial else "")
            + (f", {len(rep.attachments)} attached documents kept in the original" if rep.attachments else ""))
    record = replace(record, original=raw, original_media_type=CDA_MEDIA_TYPE)
    return record, [], made, rep.unmapped + rep.partial + [n for n in rep.notes if n[0] == "/ClinicalDocument/recordTarget"]


def _check_one(raw: bytes, cfg: CountryConfig) -> tuple[PatientRecord | None, list, str | None, list]:
    if looks_like_xml(raw):
        return check_cda(raw, cfg)
    record, problems = check_document(raw, cfg)
    return record, problems, None, []


def _check_chunk(chunk: list[tuple[str, bytes]], cfg: CountryConfig) -> list[tuple[str, PatientRecord | None, list,
                                                                                   str | None, list]]:
    return [(where, *_check_one(raw, cfg)) for where, raw in chunk]


def _chunks(paths: Iterable[Path], report: ImportReport, size: int) -> Iterator[list[tuple[str, bytes]]]:
    chunk: list[tuple[str, bytes]] = []
    for path in paths:
        if not path.exists():
            report.rejected.append((str(path), [("$", "no such file or folder")]))
            continue
        for item in _documents_in(path):
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def import_paths(store: Store, cfg: CountryConfig, paths: Iterable[Path], progress=None,  # noqa: ANN001
                 processes: int | None = None) -> ImportReport:
    """Import documents; each invalid one is rejected whole, valid ones are stored in batches.

    Validation (the FHIR model pass dominates) runs in parallel processes on large imports; one
    writer stores the valid documents in order.
    """
    report = ImportReport()
    batch: list[PatientRecord] = []
    held = [0]  # bytes in the batch

    def flush() -> None:
        held[0] = 0
        counts = store.records.save_records(batch)
        report.imported += counts["imported"]
        report.updated += counts["updated"]
        report.unchanged += counts["unchanged"]
        batch.clear()

    def take(results: list[tuple[str, PatientRecord | None, list, str | None, list]]) -> None:
        for where, record, problems, made, notes in results:
            if record is None:
                report.rejected.append((where, problems))
            else:
                if made is not None:
                    report.converted.append((where, made, notes))
                batch.append(record)
                held[0] += len(record.document) + len(record.original or b"")
                if len(batch) >= IMPORT_BATCH or held[0] >= IMPORT_BATCH_BYTES:
                    flush()
            if progress is not None:
                progress(1)

    processes = processes if processes is not None else (os.cpu_count() or 1)
    chunks = _chunks(paths, report, 50)
    first = next(chunks, None)
    second = next(chunks, None)
    if first is not None and (second is None or processes <= 1):
        for chunk in itertools.chain([first], [second] if second else [], chunks):  # small: no worker processes
            take(_check_chunk(chunk, cfg))
    elif first is not None:
        window: deque = deque()
        with ProcessPoolExecutor(max_workers=processes) as pool:
            for chunk in itertools.chain([first, second], chunks):
                window.append(pool.submit(_check_chunk, chunk, cfg))
                if len(window) >= 2 * processes:
                    take(window.popleft().result())
            while window:
                take(window.popleft().result())
    if batch:
        flush()
    return report

