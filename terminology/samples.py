"""Deterministic sample IPS document Bundles built from the catalogue (tests, benchmarks, demos).

``sample_bundle(country, entries=180)`` returns a FHIR R4 IPS-shaped document Bundle whose coded
elements come from :mod:`terminology.catalogue` (national codes for problems and medicines), so that
:func:`terminology.transcode` and :func:`terminology.translate` have realistic work to do.
"""

from __future__ import annotations

import itertools
from typing import Any

from . import catalogue
from .systems import (
    ALLERGY_CLINICAL,
    ALLERGY_VERIFICATION,
    CONDITION_CLINICAL,
    CONDITION_VER_STATUS,
    COUNTRY_LANGUAGE,
    LOINC,
    OBSERVATION_CATEGORY,
    SNOMED,
    UCUM,
)

SECTIONS = [
    ("11450-4", "problem", "Condition"),
    ("10160-0", "medication", "MedicationStatement"),
    ("48765-2", "allergy_agent", "AllergyIntolerance"),
    ("11369-6", "vaccine", "Immunization"),
    ("47519-4", "procedure", "Procedure"),
    ("46264-8", "device", "DeviceUseStatement"),
    ("30954-2", "lab_result", "Observation"),
    ("8716-3", "vital_sign", "Observation"),
    ("11348-0", "past_illness", "Condition"),
]


def _cc(concept: Any) -> dict[str, Any]:
    coding = {"system": concept.system, "code": concept.code}
    if concept.display:
        coding["display"] = concept.display
    return {"coding": [coding], "text": concept.display}


def _status(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def sample_bundle(country: str = "FR", entries: int = 180) -> dict[str, Any]:
    """A document Bundle with ``entries`` clinical entries spread over the IPS sections."""
    lang = COUNTRY_LANGUAGE[country.upper()]
    patient = {"resourceType": "Patient", "id": "p1", "language": lang,
               "name": [{"family": "Exemple", "given": ["Alex"]}], "gender": "female", "birthDate": "1960-01-01"}
    resources: list[dict[str, Any]] = [patient]
    per_section: dict[str, list[str]] = {code: [] for code, _c, _r in SECTIONS}
    pools = {cat: itertools.cycle(catalogue.entries(country, cat)) for _s, cat, _r in SECTIONS}
    reactions = itertools.cycle(catalogue.entries(country, "allergy_reaction"))
    subject = {"reference": "Patient/p1"}
    for i in range(entries):
        section, category, rtype = SECTIONS[i % len(SECTIONS)]
        concept = next(pools[category])
        rid = f"{rtype.lower()}-{i}"
        res: dict[str, Any] = {"resourceType": rtype, "id": rid}
        if rtype == "Condition":
            res |= {"clinicalStatus": _status(CONDITION_CLINICAL, "active" if category == "problem" else "resolved"),
                    "verificationStatus": _status(CONDITION_VER_STATUS, "confirmed"),
                    "code": _cc(concept), "subject": subject}
        elif rtype == "MedicationStatement":
            med_id = f"medication-{i}"
            resources.append({"resourceType": "Medication", "id": med_id, "code": _cc(concept)})
            res |= {"status": "active", "medicationReference": {"reference": f"Medication/{med_id}"},
                    "subject": subject,
                    "dosage": [{"text": concept.properties["dosage"],
                                "route": {"coding": [{"system": "http://standardterms.edqm.eu",
                                                      "code": concept.properties["route"]}]}}]}
        elif rtype == "AllergyIntolerance":
            reaction = next(reactions)
            res |= {"clinicalStatus": _status(ALLERGY_CLINICAL, "active"),
                    "verificationStatus": _status(ALLERGY_VERIFICATION, "confirmed"),
                    "type": concept.properties["type"], "category": [concept.properties["category"]],
                    "criticality": "high" if reaction.properties["severity"] == "severe" else "low",
                    "code": _cc(concept), "patient": subject,
                    "reaction": [{"manifestation": [_cc(reaction)], "severity": reaction.properties["severity"]}]}
        elif rtype == "Immunization":
            res |= {"status": "completed", "vaccineCode": _cc(concept), "patient": subject,
                    "occurrenceDateTime": "2021-10-01",
                    "protocolApplied": [{"targetDisease": [{"coding": [
                        {"system": SNOMED, "code": concept.properties["target_disease"]}]}], "doseNumberPositiveInt": 1}]}
        elif rtype == "Procedure":
            res |= {"status": "completed", "code": _cc(concept), "subject": subject, "performedDateTime": "2015"}
        elif rtype == "DeviceUseStatement":
            dev_id = f"device-{i}"
            resources.append({"resourceType": "Device", "id": dev_id, "type": _cc(concept)})
            res |= {"status": "active", "subject": subject, "device": {"reference": f"Device/{dev_id}"}}
        else:
            p = concept.properties
            value = p["min"] if p["min"] is not None else 1
            res |= {"status": "final",
                    "category": [_status(OBSERVATION_CATEGORY,
                                         "laboratory" if category == "lab_result" else "vital-signs")],
                    "code": _cc(concept), "subject": subject, "effectiveDateTime": "2024-03-01",
                    "valueQuantity": {"value": value, "unit": p["unit_display"], "system": UCUM, "code": p["unit"]}}
        res["text"] = {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{concept.display}</div>'}
        resources.append(res)
        per_section[section].append(f"{rtype}/{rid}")
    composition = {
        "resourceType": "Composition", "id": "c1", "language": lang, "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": subject, "date": "2024-03-01", "title": "Patient summary",
        "section": [
            {"code": {"coding": [{"system": LOINC, "code": code}]},
             "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">…</div>'},
             "entry": [{"reference": ref} for ref in refs]}
            for code, refs in per_section.items() if refs
        ],
    }
    return {
        "resourceType": "Bundle", "id": f"sample-{country.lower()}", "language": lang, "type": "document",
        "timestamp": "2024-03-01T10:00:00Z",
        "entry": [{"fullUrl": f"urn:uuid:{r['resourceType']}-{r['id']}", "resource": r}
                  for r in [composition, *resources]],
    }
