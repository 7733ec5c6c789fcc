"""One synthetic patient: the identity, the document's fixed resources, its sections, the Composition and the Bundle."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from gateway.records import _population_data as data
from gateway.records.synthetic.builder import Builder
from gateway.records.synthetic.codes import (
    BCP47,
    BIRTHPLACE_EXTENSION,
    COUNTRIES,
    FR_INSEE_CODE_EXTENSION,
    FR_INSEE_COMMUNE_SYSTEM,
    IPS_BUNDLE_PROFILE,
    IT_BELFIORE_EXTENSION,
    IT_BELFIORE_SYSTEM,
    LOINC,
    REFERENCE_DATE,
    SECTION_CODES,
    SIZES,
    headers,
)
from gateway.records.synthetic.concepts import prepared_catalogue
from gateway.records.synthetic.identity import IT_FAMILY_CODES, PatientTraits, identity, patient_seed
from gateway.records.synthetic.sections import (
    add_allergies,
    add_history,
    add_immunizations,
    add_measurements,
    add_medications,
    add_plan_of_care,
    add_pregnancy,
    add_problems,
    add_social_history,
)
from gateway.records.synthetic.values import cc, table

_ALL_GIVEN = {"FR": data.FR_MALE + data.FR_FEMALE, "DE": data.DE_MALE + data.DE_FEMALE,
              "IT": data.IT_MALE + data.IT_FEMALE}
_FAMILY = {"FR": data.FR_FAMILY, "DE": data.DE_FAMILY, "IT": IT_FAMILY_CODES}
_CITIES = {"FR": data.FR_CITIES, "DE": data.DE_CITIES, "IT": data.IT_CITIES}
_ORGS = {"FR": data.FR_ORGS, "DE": data.DE_ORGS, "IT": data.IT_ORGS}
#: entries every document has: Composition, Patient, Practitioner, Organization
_FIXED_ENTRIES = 4


def generate_patient(country: str, index: int, seed: int, size: str | None = None) -> tuple[PatientTraits, dict[str, Any]]:
    """One synthetic patient and its IPS document Bundle (a plain dict), deterministically."""
    country = country.upper()
    if country not in COUNTRIES:
        raise ValueError(f"no synthetic population for country {country!r} (known: {', '.join(COUNTRIES)})")
    person_seed = patient_seed(country, index, seed)
    # identity from its own stream: the same person whatever the requested summary size
    ident = identity(country, index, seed, random.Random(person_seed))
    rng = random.Random(person_seed ^ 0x5DEECE66D)
    size_label, target = size_target(rng, size)
    b = Builder(rng, prepared_catalogue(country), ident, target)

    comp_id = b.new_id()
    b.patient_ref = b.add(_patient(country, ident))
    author_ref = _add_author_and_custodian(b, country)

    # the clinical profile, section by section (the order of the draws is the population's identity)
    budget = max(target - _FIXED_ENTRIES, 3)
    age, gender = ident["age"], ident["gender"]
    pregnant = gender == "female" and 16 <= age <= 45 and rng.random() < 0.07
    problems = add_problems(b, size_label, budget, pregnant)
    add_medications(b, problems, size_label, budget)
    add_allergies(b, size_label)
    add_pregnancy(b, pregnant)
    add_social_history(b)
    add_immunizations(b)
    add_history(b)
    add_plan_of_care(b, problems, pregnant)
    add_measurements(b, problems)

    bundle = _bundle(b, country, comp_id, author_ref)
    traits = PatientTraits(
        country=country,
        identifier_system=ident["system"],
        identifier_value=ident["value"],
        family=ident["family"],
        given=" ".join(ident["given"]),
        given_names=tuple(ident["given"]),
        birthdate=ident["born"].isoformat(),
        gender=gender,
        birthplace=ident["birthplace"],
        birthplace_name=ident["birthplace_name"],
        language=b.lang,
        usual_family=ident["usual"],
        size=size_label,
        entries=len(bundle["entry"]),
    )
    return traits, bundle


def size_target(rng: random.Random, size: str | None) -> tuple[str, int]:
    """The size label and the number of bundle entries aimed at (drawn when ``size`` is None)."""
    if size is None:
        # skewed: most summaries are modest, a long tail of big ones (10..180 entries)
        target = int(min(180, max(10, rng.lognormvariate(3.7, 0.6))))
        label = "small" if target < 25 else "typical" if target < 110 else "large"
        return label, target
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)} or None, got {size!r}")
    lo, hi = SIZES[size]
    return size, rng.randint(lo, hi)


def _birthplace_address(country: str, ident: dict[str, Any]) -> dict[str, Any]:
    """The birthplace as an Address: FR with its INSEE code, IT with its Belfiore code, DE by city only."""
    code = ident["birthplace"]
    if country == "IT":
        address: dict[str, Any] = {
            "extension": [{"url": IT_BELFIORE_EXTENSION, "valueCoding": {"system": IT_BELFIORE_SYSTEM, "code": code}}],
            "city": ident["birthplace_name"],
        }
        if not code.startswith("Z"):
            address["country"] = "IT"
        return address
    if country == "FR":
        address = {
            "extension": [{"url": FR_INSEE_CODE_EXTENSION,
                           "valueCoding": {"system": FR_INSEE_COMMUNE_SYSTEM, "code": code}}],
            "city": ident["birthplace_name"],
        }
        if not code.startswith("99"):
            address["country"] = "FR"
        return address
    return {"city": ident["birthplace_name"]}


def _patient(country: str, ident: dict[str, Any]) -> dict[str, Any]:
    """The Patient resource of the identity."""
    street, postal, city, ctry = ident["address"]
    names: list[dict[str, Any]] = [{"use": "official", "family": ident["family"], "given": ident["given"]}]
    if ident["usual"]:
        names.append({"use": "usual", "family": ident["usual"], "given": ident["given"][:1]})
    return {
        "resourceType": "Patient",
        "extension": [{"url": BIRTHPLACE_EXTENSION, "valueAddress": _birthplace_address(country, ident)}],
        "identifier": [{"use": "official", "system": ident["system"], "value": ident["value"]}],
        "active": True,
        "name": names,
        "telecom": [{"system": "phone", "value": ident["phone"], "use": "mobile"}],
        "gender": ident["gender"],
        "birthDate": ident["born"].isoformat(),
        "address": [{"use": "home", "line": [street], "city": city, "postalCode": postal, "country": ctry}],
    }


def _add_author_and_custodian(b: Builder, country: str) -> str:
    """Adds the author (a Practitioner) and the custodian (``b.org_ref``); returns the author's reference."""
    rng = b.rng
    doc_family = rng.choice(_FAMILY[country])
    doc_given = rng.choice(_ALL_GIVEN[country])
    prefix = "Dr" if country != "IT" else "Dott.ssa" if doc_given in data.IT_FEMALE else "Dott."
    author_ref = b.add({"resourceType": "Practitioner", "name": [{"family": doc_family, "given": [doc_given],
                                                                  "prefix": [prefix]}]})
    org_city = rng.choice(_CITIES[country])[1]
    org_name = rng.choice(_ORGS[country]).format(city=org_city, family=doc_family)
    b.org_ref = b.add({"resourceType": "Organization", "name": org_name,
                       "address": [{"city": org_city, "country": country}]})
    return author_ref


def _bundle(b: Builder, country: str, comp_id: str, author_ref: str) -> dict[str, Any]:
    """The document Bundle: the Composition (its sections in IPS order) first, then every entry."""
    rng = b.rng
    sections = []
    heads = headers(b.lang)
    for name, (code, display) in SECTION_CODES.items():
        if name not in b.sections:
            continue
        refs, rows = b.sections[name]
        sections.append({
            "title": b.t[name],
            "code": cc({"system": LOINC, "code": code, "display": display}),
            "text": {"status": "generated", "div": table(heads[name], rows)},
            "entry": refs,
        })
    stamp_day = REFERENCE_DATE - timedelta(days=rng.randint(0, 3))
    stamp = f"{stamp_day.isoformat()}T{rng.randint(7, 19):02d}:{rng.randint(0, 59):02d}:00+01:00"
    composition = {
        "resourceType": "Composition",
        "id": comp_id,
        "language": BCP47[country],
        "status": "final",
        "type": cc({"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}),
        "subject": {"reference": b.patient_ref},
        "date": stamp,
        "author": [{"reference": author_ref}],
        "title": b.t["title"],
        "confidentiality": "N",
        "custodian": {"reference": b.org_ref},
        "section": sections,
    }
    return {
        "resourceType": "Bundle",
        "id": b.new_id(),
        "meta": {"profile": [IPS_BUNDLE_PROFILE]},
        "language": BCP47[country],
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{b.new_id()}"},
        "type": "document",
        "timestamp": stamp,
        "entry": [{"fullUrl": f"urn:uuid:{comp_id}", "resource": composition}, *b.entries],
    }
