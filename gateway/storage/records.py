"""National record store: patients, their cross-border consent and their versioned summaries."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

import gateway.storage.audit as audit_storage

#: Summaries are stored zlib-compressed (FHIR JSON shrinks ~8x; a million patients stay practical).
COMPRESSION_LEVEL = 3


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Patient:
    id: str
    identifier_system: str
    identifier_value: str
    family: str
    given: str
    birthdate: str
    gender: str
    birthplace: str | None
    consent: str

    @classmethod
    def from_row(cls, row: dict) -> Patient:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class StoredSummary:
    patient_id: str
    version: int
    sha256: str
    language: str | None
    entries: int
    created_at: str
    document: bytes


@dataclass(frozen=True)
class PatientRecord:
    """What an import or a seed writes: identity traits and one summary document (JSON bytes)."""

    identifier_system: str
    identifier_value: str
    family: str
    given: str
    birthdate: str
    gender: str
    birthplace: str | None
    document: bytes
    language: str | None = None
    entries: int = 0
    #: the original clinical document the summary was converted from (a CDA), stored beside it
    original: bytes | None = None
    original_media_type: str | None = None


@dataclass(frozen=True)
class StoredOriginal:
    patient_id: str
    version: int
    media_type: str
    sha256: str
    document: bytes


_PATIENT_COLUMNS = "id, identifier_system, identifier_value, family, given, birthdate, gender, birthplace, consent"


class RecordStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.conn = db.conn

    def _patient(self, where: str, params: tuple) -> Patient | None:
        cur = self.conn.execute(f"SELECT {_PATIENT_COLUMNS} FROM patients WHERE {where}", params)  # noqa: S608
        row = cur.fetchone()
        if row is None:
            return None
        return Patient(*row)

    def get_patient(self, patient_id: str) -> Patient | None:
        return self._patient("id = ?", (patient_id,))

    def find_by_identifier(self, system: str, value: str) -> Patient | None:
        return self._patient("identifier_system = ? AND identifier_value = ?", (system, value))

    def list_patients(self, limit: int, offset: int = 0) -> list[Patient]:
        """Patients in the order they were stored (testers pick whom to search for)."""
        cur = self.conn.execute(f"SELECT {_PATIENT_COLUMNS} FROM patients ORDER BY rowid LIMIT ? OFFSET ?",  # noqa: S608
                                (limit, offset))
        return [Patient(*row) for row in cur.fetchall()]

    def count_patients(self) -> int:
        return self.conn.execute("SELECT count(*) FROM patients").fetchone()[0]

    def current_summary(self, patient_id: str, with_document: bool = True) -> StoredSummary | None:
        """The latest version; ``with_document=False``: without the document (``b""``), e.g. when the
        caller has it by ``sha256`` already (no read or decompression of the stored bytes)."""
        document_column = "document, compression" if with_document else "NULL, NULL"
        row = self.conn.execute(
            f"SELECT patient_id, version, sha256, language, entries, created_at, {document_column}"  # noqa: S608
            " FROM summaries WHERE patient_id = ? ORDER BY version DESC LIMIT 1",
            (patient_id,),
        ).fetchone()
        if row is None:
            return None
        document = zlib.decompress(row[6]) if row[7] == "zlib" else bytes(row[6] or b"")
        return StoredSummary(*row[:6], document)

    def summary_document(self, patient_id: str, version: int) -> bytes | None:
        """The stored document of one version (decompressed)."""
        row = self.conn.execute(
            "SELECT document, compression FROM summaries WHERE patient_id = ? AND version = ?", (patient_id, version)
        ).fetchone()
        if row is None:
            return None
        return zlib.decompress(row[0]) if row[1] == "zlib" else row[0]

    def original_document(self, patient_id: str, version: int) -> StoredOriginal | None:
        """The original document stored beside one summary version (None: the summary is the original)."""
        row = self.conn.execute(
            "SELECT patient_id, version, media_type, sha256, document, compression FROM summary_originals"
            " WHERE patient_id = ? AND version = ?", (patient_id, version)
        ).fetchone()
        if row is None:
            return None
        return StoredOriginal(*row[:4], zlib.decompress(row[4]) if row[5] == "zlib" else row[4])

    def iter_current_documents(self):  # noqa: ANN201 - iterator of dicts
        """The current summary of every patient, parsed (for reports over the whole store)."""
        import orjson

        cur = self.conn.execute(
            "SELECT s.document, s.compression FROM summaries s WHERE s.version ="
            " (SELECT max(version) FROM summaries t WHERE t.patient_id = s.patient_id)"
        )
        for document, compression in cur:
            yield orjson.loads(zlib.decompress(document) if compression == "zlib" else document)

    def summary_history(self, patient_id: str) -> list[StoredSummary]:
        rows = self.conn.execute(
            "SELECT patient_id, version, sha256, language, entries, created_at FROM summaries"
            " WHERE patient_id = ? ORDER BY version",
            (patient_id,),
        ).fetchall()
        return [StoredSummary(*row, b"") for row in rows]

    def set_consent(self, patient_id: str, consent: str, audit) -> bool:  # noqa: ANN001 - an AuditEntry draft
        """Change the setting; its audit record (``audit``: a draft the caller builds, e.g. with
        ``gateway.audit_trail.consent_draft``) is committed in the same transaction."""
        if consent not in ("allowed", "opposed"):
            raise ValueError(f"consent must be 'allowed' or 'opposed', got {consent!r}")
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "UPDATE patients SET consent = ?, consent_updated_at = ? WHERE id = ?",
                (consent, utcnow(), patient_id),
            )
            changed = cur.rowcount == 1
            if changed:
                audit_storage.append_locked(conn, audit)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return changed

    def save_records(self, records: Iterable[PatientRecord]) -> dict[str, int]:
        """Store patients and their summaries in one transaction.

        A patient already known by identifier keeps its id; a document identical to the current
        version is ``unchanged``; a different one becomes a new version (history is kept).
        """
        counts = {"imported": 0, "updated": 0, "unchanged": 0}
        conn = self.conn
        now = utcnow()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for rec in records:
                digest = hashlib.sha256(rec.document).hexdigest()
                row = conn.execute(
                    "SELECT id FROM patients WHERE identifier_system = ? AND identifier_value = ?",
                    (rec.identifier_system, rec.identifier_value),
                ).fetchone()
                if row is None:
                    patient_id = secrets.token_hex(12)
                    conn.execute(
                        "INSERT INTO patients (id, identifier_system, identifier_value, family, given,"
                        " birthdate, gender, birthplace, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            patient_id, rec.identifier_system, rec.identifier_value, rec.family,
                            rec.given, rec.birthdate, rec.gender, rec.birthplace, now,
                        ),
                    )
                    version, status = 1, "imported"
                else:
                    patient_id = row[0]
                    current = conn.execute(
                        "SELECT version, sha256 FROM summaries WHERE patient_id = ?"
                        " ORDER BY version DESC LIMIT 1",
                        (patient_id,),
                    ).fetchone()
                    if current and current[1] == digest:
                        counts["unchanged"] += 1
                        continue
                    conn.execute(
                        "UPDATE patients SET family = ?, given = ?, birthdate = ?, gender = ?, birthplace = ?"
                        " WHERE id = ?",
                        (rec.family, rec.given, rec.birthdate, rec.gender, rec.birthplace, patient_id),
                    )
                    version, status = (current[0] + 1 if current else 1), "updated"
                conn.execute(
                    "INSERT INTO summaries (patient_id, version, sha256, language, entries, compression,"
                    " document, created_at) VALUES (?, ?, ?, ?, ?, 'zlib', ?, ?)",
                    (patient_id, version, digest, rec.language, rec.entries,
                     zlib.compress(rec.document, COMPRESSION_LEVEL), now),
                )
                if rec.original is not None:
                    conn.execute(
                        "INSERT INTO summary_originals (patient_id, version, media_type, sha256, compression, document)"
                        " VALUES (?, ?, ?, ?, 'zlib', ?)",
                        (patient_id, version, rec.original_media_type or "application/octet-stream",
                         hashlib.sha256(rec.original).hexdigest(), zlib.compress(rec.original, COMPRESSION_LEVEL)),
                    )
                counts[status] += 1
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return counts
