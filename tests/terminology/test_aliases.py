"""Alternative identifiers of code systems (OIDs, old FHIR URIs) read as their canonical system."""

from __future__ import annotations

from typing import Any

import terminology
from terminology.systems import EXT_TRANSCODED, ICD10, ICD10GM_DE, LOINC, OBSERVATION_CATEGORY, SNOMED

from .conftest import translation

SNOMED_OID = "urn:oid:2.16.840.1.113883.6.96"
OLD_CATEGORY = "http://hl7.org/fhir/observation-category"


def _bundle(*codeables: dict[str, Any]) -> dict[str, Any]:
    entries = [{"resource": {"resourceType": "Observation", "id": f"o{i}", "status": "final", "code": cc}}
               for i, cc in enumerate(codeables)]
    return {"resourceType": "Bundle", "type": "document", "entry": entries}


def test_shipped_table_names_the_common_aliases(term: terminology.Terminology) -> None:
    assert term.canonical(SNOMED_OID) == SNOMED
    assert term.canonical("urn:oid:2.16.840.1.113883.6.1") == LOINC
    assert term.canonical("urn:oid:2.16.840.1.113883.6.73") == "http://www.whocc.no/atc"
    assert term.canonical("urn:oid:2.16.840.1.113883.6.3") == ICD10
    assert term.canonical(OLD_CATEGORY) == OBSERVATION_CATEGORY
    assert term.canonical(SNOMED) == SNOMED
    # a URI the shipped data uses as a system of its own is never redirected
    assert all(term.canonical(s) == s for s in term.systems)


def test_lookup_and_display_through_an_alias(term: terminology.Terminology) -> None:
    concept = term.lookup(SNOMED_OID, "38341003", "de")
    assert concept is not None and concept.system == SNOMED and concept.display == "Arterielle Hypertonie"
    assert term.display(OLD_CATEGORY, "laboratory", "fr") == ("Laboratoire", "fr", False)


def test_translate_keeps_the_original_system_and_translates() -> None:
    bundle = _bundle({"coding": [{"system": SNOMED_OID, "code": "38341003", "display": "Hypertensive disorder"}]},
                     {"coding": [{"system": OLD_CATEGORY, "code": "laboratory"}]})
    terminology.translate(bundle, "de")
    first = bundle["entry"][0]["resource"]["code"]["coding"][0]
    assert first["system"] == SNOMED_OID
    assert translation(first, "display")["content"] == "Arterielle Hypertonie"
    second = bundle["entry"][1]["resource"]["code"]["coding"][0]
    assert second["system"] == OLD_CATEGORY and translation(second, "display")["content"] == "Labor"


def test_transcode_adds_the_canonical_coding_next_to_the_alias() -> None:
    bundle = _bundle({"coding": [{"system": SNOMED_OID, "code": "38341003", "display": "Hypertensive disorder"}]},
                     {"coding": [{"system": SNOMED_OID, "code": "38341003"}, {"system": SNOMED, "code": "38341003"}]})
    _bundle_out, report = terminology.transcode(bundle, "FR")
    codings = bundle["entry"][0]["resource"]["code"]["coding"]
    assert codings[0] == {"system": SNOMED_OID, "code": "38341003", "display": "Hypertensive disorder"}
    assert codings[1] == {"system": SNOMED, "code": "38341003", "display": "Hypertensive disorder",
                          "extension": [{"url": EXT_TRANSCODED, "valueCode": "equal"}]}
    assert len(bundle["entry"][1]["resource"]["code"]["coding"]) == 2  # canonical already there: nothing added
    assert not report.unmapped


def test_translate_code_with_an_alias_target_system(term: terminology.Terminology) -> None:
    params = term.translate_code(ICD10GM_DE, "E11.90", "urn:oid:2.16.840.1.113883.6.3")
    match = next(p for p in params["parameter"] if p["name"] == "match")
    concept = next(p for p in match["part"] if p["name"] == "concept")["valueCoding"]
    assert (concept["system"], concept["code"]) == (ICD10, "E11.9")
