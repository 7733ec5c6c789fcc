"""The audit record and its hash chain.

Each record's ``hash`` is the SHA-256 of the canonical JSON of every other field of the record,
``prev_hash`` (the previous record's hash, :data:`GENESIS` for the first) and ``seq`` included;
changing, removing or reordering any record therefore breaks the chain from that record on.

Canonical JSON: keys sorted, no whitespace, UTF-8, ``detail`` nested the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

GENESIS = "0" * 64
HASH_VERSION = 1

#: Fields of a record in storage order (the columns of ``audit_events``).
FIELDS = (
    "seq", "uuid", "recorded", "recorder", "listener", "event", "action", "outcome", "outcome_code",
    "request_id", "side", "peer_country", "actor_type", "actor_id", "actor_role", "organisation", "purpose",
    "patient_id", "network", "detail", "prev_hash", "hash",
)


def document_identifier(document: bytes | dict | None) -> str | None:
    """``Bundle.identifier.value`` of a summary document (the id both sides record), if any."""
    if document is None:
        return None
    try:
        if isinstance(document, bytes | bytearray):
            document = json.loads(document)
        identifier = document.get("identifier") or {}  # type: ignore[union-attr]
        value = identifier.get("value") if isinstance(identifier, dict) else None
        return str(value) if value else None
    except Exception:  # noqa: BLE001 - an unreadable document simply has no id to record
        return None


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class AuditEntry:
    """One audit record (identifiers only).

    ``recorder`` is this NCPeH's country, ``listener`` where it was recorded (``public``, ``ncp`` or
    ``cli``), ``side`` ``requesting`` (country B) or ``responding`` (country A) for cross-border
    calls, ``peer_country`` the other side's country, ``outcome`` a FHIR audit-event-outcome code
    and ``outcome_code`` the refusal or error code, ``request_id`` the X-Request-ID shared by both
    sides. ``detail`` holds further identifiers (matches, document id and digest, client id...).
    """

    seq: int
    uuid: str
    recorded: str
    recorder: str
    listener: str
    event: str
    action: str
    outcome: str
    outcome_code: str | None
    request_id: str | None
    side: str | None
    peer_country: str | None
    actor_type: str
    actor_id: str | None
    actor_role: str | None
    organisation: str | None
    purpose: str | None
    patient_id: str | None
    network: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS
    hash: str = ""

    def hashed_fields(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("hash")
        data["v"] = HASH_VERSION
        return data

    def _shallow_fields(self) -> dict[str, Any]:
        """The fields without the deep copy of ``asdict`` (only serialised, never changed)."""
        return {name: getattr(self, name) for name in FIELDS}

    def compute_hash(self) -> str:
        return _hash_of(self._shallow_fields())

    def chained(self, seq: int, prev_hash: str) -> AuditEntry:
        """This record as the chain's next one: ``seq``, ``prev_hash`` and its ``hash`` set."""
        data = self._shallow_fields()
        data["seq"], data["prev_hash"] = seq, prev_hash
        data["hash"] = _hash_of(dict(data))
        return AuditEntry(**data)

    @classmethod
    def from_row(cls, row: tuple | list) -> AuditEntry:
        values = dict(zip(FIELDS, row, strict=True))
        values["detail"] = json.loads(values["detail"]) if values["detail"] else {}
        return cls(**values)

    def to_row(self) -> tuple:
        data = self._shallow_fields()
        data["detail"] = canonical_json(self.detail)
        return tuple(data[name] for name in FIELDS)


assert tuple(f.name for f in fields(AuditEntry)) == FIELDS  # noqa: S101 - storage order is the dataclass order


def _hash_of(fields: dict[str, Any]) -> str:
    """The hash of a record given as its fields (changed here: pass a copy when they are kept): the same
    dict as ``hashed_fields()``, without copying ``detail`` (it is only serialised)."""
    del fields["hash"]
    fields["v"] = HASH_VERSION
    return entry_hash(fields)


def entry_hash(hashed: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(hashed).encode("utf-8")).hexdigest()
