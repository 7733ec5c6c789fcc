"""Identification at the country of affiliation (IHE PDQm style), from the traits in the search mask.

A patient matches only when the identifier *and* every trait given match; the answer never says
which trait differed (no match is simply an empty result).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from gateway import errors, timing
from gateway.config import KNOWN_TRAITS, CountryConfig
from gateway.records.identifiers import IDENTIFIER_SCHEMES, IdentifierError
from gateway.storage.records import Patient, RecordStore

GENDERS = ("male", "female", "other", "unknown")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$", re.ASCII)


def normalise_name(value: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name (DUPONT-Léa -> DUPONT LEA)."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[\s\-'’.,]+", " ", text).strip().upper()
    return text


def parse_identifier(raw: str, cfg: CountryConfig) -> tuple[str, str]:
    """``system|value`` (or a bare value, taken in this country's system)."""
    system, sep, value = raw.partition("|")
    if not sep:
        system, value = cfg.identifier.system, raw
    value = value.strip()
    if not value:
        raise errors.BadRequest("The identifier has no value.", code="INVALID_IDENTIFIER")
    if system != cfg.identifier.system:
        raise errors.BadRequest(
            f"Patients of {cfg.name} are identified in system {cfg.identifier.system}.",
            code="UNKNOWN_IDENTIFIER_SYSTEM",
        )
    return system, validate_identifier(cfg.identifier.scheme, value)


def validate_identifier(scheme: str, value: str) -> str:
    """Check the identifier's own rule (check digits) when the scheme is known."""
    handler = IDENTIFIER_SCHEMES.get(scheme)
    if handler is None:
        return value
    try:
        return handler.validate(value)
    except IdentifierError as exc:
        raise errors.BadRequest(str(exc), code="INVALID_IDENTIFIER") from None
    except ValueError:  # a rule that did not foresee this input: still the sender's error, not ours
        raise errors.BadRequest(f"The identifier is not a valid {scheme}.", code="INVALID_IDENTIFIER") from None


def _matches(patient: Patient, traits: Mapping[str, str]) -> bool:
    if "family" in traits and normalise_name(traits["family"]) != normalise_name(patient.family):
        return False
    if "given" in traits:
        # The first given name (a compound such as "Anne-Sophie" counts as one) or all of them.
        wanted = normalise_name(traits["given"])
        first = patient.given.split()[0] if patient.given.split() else ""
        if wanted not in (normalise_name(patient.given), normalise_name(first)):
            return False
    if "birthdate" in traits and traits["birthdate"] != patient.birthdate:
        return False
    if "gender" in traits and traits["gender"] != patient.gender:
        return False
    if "birthplace" in traits and (traits["birthplace"] or "").strip() != (patient.birthplace or ""):
        return False
    return True


def check_traits(params: Mapping[str, str], cfg: CountryConfig) -> dict[str, str]:
    """Validate the query against this country's search mask; returns the traits given."""
    traits = {k: v.strip() for k, v in params.items() if k in KNOWN_TRAITS and v and v.strip()}
    for trait in cfg.identifier.search_mask:
        if trait not in traits:
            raise errors.MissingTrait(
                f"{cfg.name} requires the trait '{trait}' to identify a patient "
                f"(search mask: {', '.join(cfg.identifier.search_mask)}).",
            )
    if "birthdate" in traits and not _DATE.match(traits["birthdate"]):
        raise errors.BadRequest("birthdate must be a date (YYYY-MM-DD).", code="INVALID_TRAIT")
    if "gender" in traits and traits["gender"] not in GENDERS:
        raise errors.BadRequest(f"gender must be one of {', '.join(GENDERS)}.", code="INVALID_TRAIT")
    return traits


@timing.timed("identify")
def identify(store: RecordStore, cfg: CountryConfig, params: Mapping[str, str]) -> list[Patient]:
    traits = check_traits(params, cfg)
    system, value = parse_identifier(traits.pop("identifier"), cfg)
    patient = store.find_by_identifier(system, value)
    if patient is None or not _matches(patient, traits):
        return []
    return [patient]


def patient_resource(patient: Patient, resource_id: str | None = None) -> dict:
    """The minimal FHIR Patient returned by identification (identity only, no clinical content)."""
    given = patient.given.split()
    resource = {
        "resourceType": "Patient",
        "id": resource_id or patient.id,
        "identifier": [{"system": patient.identifier_system, "value": patient.identifier_value}],
        "name": [{"use": "official", "family": patient.family, "given": given}],
        "gender": patient.gender,
        "birthDate": patient.birthdate,
    }
    if patient.birthplace:
        resource["extension"] = [{
            "url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
            "valueAddress": {"district": patient.birthplace},
        }]
    return resource
