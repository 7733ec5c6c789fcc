"""Code lists the synthetic-population generator draws from, per country and category.

The generator (``gateway/records/synthetic/``) and the terminology always agree because both
read the same data: national problems and medicines come from the national CodeSystems shipped
under ``terminology/data/national/`` and the shared categories from :mod:`terminology._catalogue_data`;
a test checks that every entry is mappable to the pivot value sets and translatable.

Stable API::

    COUNTRIES: tuple[str, ...]              # ("FR", "DE", "IT")
    CATEGORIES: tuple[str, ...]             # see below
    entries(country: str, category: str) -> list[Concept]
    entry(country: str, category: str, code: str) -> Concept | None

Every returned :class:`~terminology.model.Concept` has ``display`` in the country's language
(falling back to English where no curated designation exists) and ``designations`` with every
known language.  ``properties`` per category (all keys always present, values may be ``None``):

- ``problem`` / ``past_illness`` (FR: CIM-10, DE: ICD-10-GM, IT: ICD-9-CM):
  ``icd10`` (pivot ICD-10 code), ``icd10_display`` (English), ``snomed`` (SNOMED CT code or None),
  ``chronic`` (bool: a long-term condition, usually "active" in a summary).
- ``medication`` (FR: CIP13, DE: PZN, IT: AIC): ``atc``, ``atc_display`` (English INN/ATC name),
  ``dose_form`` / ``dose_form_display`` (EDQM), ``route`` / ``route_display`` (EDQM),
  ``strength`` (text, e.g. "500 mg"), ``dosage`` (typical dosage instructions in the national
  language), ``dosage_en`` (same in English), ``indication_icd10`` (typical indication or None).
- ``allergy_agent`` (SNOMED CT): ``category`` (FHIR AllergyIntolerance.category: food |
  medication | environment | biologic), ``type`` (allergy | intolerance).
- ``allergy_reaction`` (SNOMED CT): ``severity`` (typical: mild | moderate | severe).
- ``vaccine`` (SNOMED CT vaccine product + ATC): ``atc`` (ATC of the vaccine), ``target_disease``
  (SNOMED CT), ``doses`` (usual number of doses).
- ``procedure`` (SNOMED CT): ``body_site`` (SNOMED CT or None).
- ``device`` (SNOMED CT): no extra properties.
- ``lab_result`` / ``vital_sign`` (LOINC): ``unit`` (UCUM code), ``unit_display``,
  ``low`` / ``high`` (normal/reference range, may be None), ``min`` / ``max`` (plausible value
  range to draw from), ``decimals`` (int), ``value_type`` ("Quantity" or "CodeableConcept").
- ``blood_group`` (SNOMED CT): no extra properties.
- ``social_history`` (LOINC observation code for the item): ``value_system``/``value_codes``
  (allowed answer codes, SNOMED CT) or ``unit`` for quantities.
- ``pregnancy`` (LOINC / SNOMED CT status values): ``kind`` ("status" | "outcome" | "edd").
"""

from __future__ import annotations

from ._catalogue_impl import build_entries
from .model import Concept, UnknownCountryError

COUNTRIES: tuple[str, ...] = ("FR", "DE", "IT")
CATEGORIES: tuple[str, ...] = (
    "problem",
    "past_illness",
    "medication",
    "allergy_agent",
    "allergy_reaction",
    "vaccine",
    "procedure",
    "device",
    "lab_result",
    "vital_sign",
    "blood_group",
    "social_history",
    "pregnancy",
)


def entries(country: str, category: str) -> list[Concept]:
    """The catalogue entries of ``category`` for ``country`` (ISO 3166-1 alpha-2, case-insensitive)."""
    country = country.upper()
    if country not in COUNTRIES:
        raise UnknownCountryError(f"no terminology catalogue for country {country!r}; known: {COUNTRIES}")
    if category not in CATEGORIES:
        raise ValueError(f"unknown catalogue category {category!r}; known: {', '.join(CATEGORIES)}")
    return build_entries(country, category)


def entry(country: str, category: str, code: str) -> Concept | None:
    """One catalogue entry by code, or None."""
    for concept in entries(country, category):
        if concept.code == code:
            return concept
    return None
