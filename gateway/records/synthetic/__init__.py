"""Deterministic, clinically plausible synthetic population of IPS documents.

``generate_patient(country, index, seed, size=None)`` returns ``(PatientTraits, bundle_dict)``;
the same arguments always give the same output, different indexes give different people (their
national identifiers are unique for the first million or so indexes of a seed: the identifier is
built from a permutation of the index, not drawn at random).

Countries: France (INS-NIR), Germany (KVNR) and Italy (codice fiscale, computed from the person's
name, sex, birth date and the Belfiore code of the birthplace).

Codes come from :func:`terminology.catalogue.entries` (problems in CIM-10 / ICD-10-GM / ICD-9-CM,
medicines in CIP13 / PZN / AIC, allergies, vaccines, procedures and devices in SNOMED CT, results and vital signs in
LOINC + UCUM), so the generator and the terminology always agree. Narratives are in the country's
language. Plain dicts only (no pydantic) for speed; serialise with :func:`document_bytes` (orjson).

Sizes: ``"small"`` ≈ 10 bundle entries, ``"typical"`` ≈ 50, ``"large"`` ≈ 180; ``None`` draws a size
from a skewed distribution between 10 and 180 entries (median around 40).

Modules: ``codes`` (system URIs, section codes, headings), ``concepts`` (the catalogue prepared per
country), ``identity`` (who the person is), ``values`` (dates, codings, measured values), ``builder``
(one method per resource), ``sections`` (one builder per section), ``document`` (the assembly).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from gateway.records.identifiers import CODICE_FISCALE_SYSTEM
from gateway.records.synthetic.codes import (
    ABSENT_DISPLAYS,
    COUNTRIES,
    FR_INSEE_COMMUNE_SYSTEM,
    IT_BELFIORE_SYSTEM,
    REFERENCE_DATE,
    SECTION_CODES,
    SIZES,
    SMOKING_EN,
)
from gateway.records.synthetic.concepts import reset_caches
from gateway.records.synthetic.document import generate_patient
from gateway.records.synthetic.identity import IT_FAMILY_CODES, PatientTraits


def document_bytes(bundle: dict[str, Any]) -> bytes:
    """The document serialised as compact JSON (orjson)."""
    return orjson.dumps(bundle)


def iter_population(
    country: str, n: int, seed: int, start: int = 0, size: str | None = None
) -> Iterator[tuple[PatientTraits, dict[str, Any]]]:
    """Patients ``start .. start+n-1`` of the population ``(country, seed)``."""
    for index in range(start, start + n):
        yield generate_patient(country, index, seed, size)


__all__ = [
    "ABSENT_DISPLAYS",
    "CODICE_FISCALE_SYSTEM",
    "COUNTRIES",
    "FR_INSEE_COMMUNE_SYSTEM",
    "IT_BELFIORE_SYSTEM",
    "IT_FAMILY_CODES",
    "PatientTraits",
    "REFERENCE_DATE",
    "SECTION_CODES",
    "SIZES",
    "SMOKING_EN",
    "document_bytes",
    "generate_patient",
    "iter_population",
    "reset_caches",
]
