"""A patient's access history at country A (patient portal API, ``ncpeh audit accesses``): find the patient,
then read the cross-border accesses to their data (:mod:`gateway.audit.history`)."""

from __future__ import annotations

from gateway.config import CountryConfig
from gateway.services.identify import parse_identifier
from gateway.storage import Store
from gateway.storage.records import Patient


def resolve_patient(store: Store, cfg: CountryConfig, value: str) -> Patient | None:
    """A patient by internal id, by ``system|value`` or by a bare national identifier."""
    patient = store.records.get_patient(value)
    if patient is not None:
        return patient
    system, ident = parse_identifier(value, cfg)
    return store.records.find_by_identifier(system, ident)
