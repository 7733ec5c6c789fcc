"""Audit trail: one append-only, hash-chained record per security-relevant event, on both sides.

* :mod:`gateway.audit.events` - the event types and outcome codes;
* :mod:`gateway.audit.chain` - the record, its canonical JSON and its hash;
* :mod:`gateway.audit_trail` - recording (from a request, from the CLI, from a transaction);
* :mod:`gateway.audit.fhir` - rendering as a FHIR ``AuditEvent`` (IHE Basic Audit Log Patterns);
* :mod:`gateway.audit.verify`, :mod:`gateway.audit.export`, :mod:`gateway.audit.history` - checking
  the chain, exporting NDJSON and the patient's access history.

Only identifiers are recorded: never names, birth dates, clinical content, secrets or tokens.
The SQL lives in :mod:`gateway.storage.audit`. This package's ``__init__`` imports nothing from
storage (storage imports :mod:`gateway.audit.chain`).
"""

from gateway.audit.chain import GENESIS, AuditEntry, canonical_json, entry_hash
from gateway.audit.events import Outcome

__all__ = ["GENESIS", "AuditEntry", "Outcome", "canonical_json", "entry_hash"]
