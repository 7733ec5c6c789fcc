"""A patient's access history at country A: who, from which country, organisation and role, why, when,
with what outcome - for the national patient portal (API) and the command line.

Finding the patient by id or national identifier is a service: :func:`gateway.services.access_history.resolve_patient`."""

from __future__ import annotations

from typing import Any

from gateway.audit import events
from gateway.audit.chain import AuditEntry
from gateway.audit.events import Outcome

KIND = {events.IDENTIFY: "identification", events.SUMMARY: "summary"}


def access_item(entry: AuditEntry) -> dict[str, Any]:
    return {
        "when": entry.recorded,
        "access": KIND.get(entry.event, entry.event),
        "country": entry.peer_country,
        "organisation": entry.organisation,
        "role": entry.actor_role,
        "purpose": entry.purpose,
        "outcome": Outcome.label(entry.outcome),
        "refusal_code": entry.outcome_code if entry.outcome != Outcome.SUCCESS else None,
        "request_id": entry.request_id,
        "audit_event": entry.uuid,
    }


def access_history(store, patient_id: str, limit: int = 500) -> list[dict[str, Any]]:  # noqa: ANN001 - a Store
    """Cross-border accesses to the patient's data answered by this NCPeH (country A), newest first."""
    entries = store.audit.for_patient(patient_id, events.ACCESS_EVENTS, side=events.RESPONDING, limit=limit)
    return [access_item(entry) for entry in entries]
