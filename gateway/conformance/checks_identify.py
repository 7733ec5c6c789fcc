"""Identification (country A's patient search): the search mask, wrong keys, unknown and ambiguous patients."""

from __future__ import annotations

from gateway.conformance.catalogue import Fail, Skip, check
from gateway.conformance.client import TRAITS, Response, expect_refusal, need_patient
from gateway.conformance.kit import Kit

PDQM = "IHE PDQm ITI-78"
EHDSI_ID = "eHDSI patient identification (search mask)"
#: Values that make a trait differ from any real patient's (names get an improbable name).
ALTERED = {"birthdate": "1900-01-01", "gender": "other"}


def _entries(resp: Response) -> list | None:
    data = resp.json()
    if resp.status != 200 or not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        return None
    entries = data.get("entry") or []
    return entries if isinstance(entries, list) else None


@check("ID-MATCH", "identification", "The patient given (--patient) is identified: a searchset Bundle with exactly "
       "one Patient", f"{PDQM}; {EHDSI_ID}")
def match(kit: Kit) -> str:
    resp = kit.search(need_patient(kit.settings))
    entries = _entries(resp)
    data = resp.json()
    if entries is None or data.get("type") != "searchset":
        raise Fail(f"expected a searchset Bundle, got {resp.describe()}")
    if len(entries) != 1:
        raise Fail(f"expected exactly one match, got {len(entries)}")
    return "one match"


@check("ID-PATIENT", "identification", "The matched Patient has an id and carries the identifier that was searched for",
       f"{PDQM}; FHIR R4 Patient")
def patient_resource(kit: Kit) -> str:
    traits = need_patient(kit.settings)
    resp = kit.search(traits)
    entries = _entries(resp)
    if not entries:
        raise Skip("no match to inspect (see ID-MATCH)")
    resource = entries[0].get("resource") if isinstance(entries[0], dict) else None
    if not isinstance(resource, dict) or resource.get("resourceType") != "Patient" or not resource.get("id"):
        raise Fail("the entry is not a Patient with an id")
    wanted = traits.get("identifier", "").rpartition("|")[2]
    values = [i.get("value") for i in resource.get("identifier") or [] if isinstance(i, dict)]
    if wanted and wanted not in values:
        raise Fail(f"the Patient does not carry the identifier searched for (has {len(values)} identifier(s))")
    return f"Patient/{resource['id']}"


def _missing_trait(kit: Kit, trait: str) -> str:
    if trait not in kit.settings.search_mask:
        raise Skip(f"'{trait}' is not in the target's search mask ({kit.settings.mask_source})")
    traits = need_patient(kit.settings)
    if trait not in traits:
        raise Skip(f"the patient given has no '{trait}' trait")
    del traits[trait]
    return expect_refusal(kit.search(traits), (400, 422), f"a search without '{trait}'")


for _trait in TRAITS:
    def _run(kit: Kit, trait: str = _trait) -> str:
        return _missing_trait(kit, trait)

    check(f"ID-MASK-{_trait.upper()}", "identification",
          f"A search without the trait '{_trait}', when the target's search mask requires it, is refused "
          "(4xx OperationOutcome)", EHDSI_ID)(_run)


@check("ID-WRONG-KEY", "identification", "An identifier in another system (wrong identifier key) finds nobody",
       f"{PDQM} (identifier domain); {EHDSI_ID}")
def wrong_key(kit: Kit) -> str:
    traits = need_patient(kit.settings)
    if "identifier" not in traits:
        raise Skip("the patient given has no 'identifier' trait")
    traits["identifier"] = "urn:oid:2.999.404|" + traits["identifier"].rpartition("|")[2]
    resp = kit.search(traits)
    entries = _entries(resp)
    if entries is not None:
        if entries:
            raise Fail(f"{len(entries)} patient(s) returned for an identifier of another system")
        return "no match"
    return expect_refusal(resp, (400, 404, 422), "an identifier of another system")


@check("ID-UNKNOWN", "identification", "An unknown patient (the given identifier with another family name) finds nobody "
       "and the answer does not say which trait differed", f"{PDQM}; {EHDSI_ID}")
def unknown(kit: Kit) -> str:
    traits = need_patient(kit.settings)
    key = "family" if "family" in traits else next((t for t in traits if t != "identifier"), None)
    if key is None:
        raise Skip("the patient given has no trait besides the identifier to alter")
    traits[key] = ALTERED.get(key, "Conformancekit")
    resp = kit.search(traits)
    entries = _entries(resp)
    if entries is not None:
        if entries:
            raise Fail(f"{len(entries)} patient(s) returned although '{key}' differs")
        return f"empty searchset (with '{key}' altered)"
    return expect_refusal(resp, (404,), f"an unknown patient ('{key}' altered)")


@check("ID-SEVERAL", "identification", "A query naming two patients (identifier given twice) never answers a list of "
       "candidates: one patient at most, or a refusal", f"{PDQM}; {EHDSI_ID} (unambiguous identification)")
def several(kit: Kit) -> str:
    traits = need_patient(kit.settings)
    other = kit.settings.opposed_patient.get("identifier")
    if not other or "identifier" not in traits:
        raise Skip("needs the identifiers of two patients (--patient and --opposed-patient identifier=…)")
    params = list(traits.items()) + [("identifier", other)]
    resp = kit.search(params)
    entries = _entries(resp)
    if entries is not None:
        if len(entries) > 1:
            raise Fail(f"{len(entries)} candidates returned")
        return f"{len(entries)} match(es)"
    return expect_refusal(resp, (400, 409, 422), "a query naming two patients")


@check("ID-INVALID-TRAIT", "identification", "A malformed trait (birthdate 'not-a-date') is refused with an "
       "OperationOutcome", f"{PDQM}; FHIR R4 search (date parameter)")
def invalid_trait(kit: Kit) -> str:
    traits = need_patient(kit.settings)
    traits["birthdate"] = "not-a-date"
    resp = kit.search(traits)
    entries = _entries(resp)
    if entries is not None and entries:
        raise Fail(f"{len(entries)} patient(s) returned for a malformed birthdate")
    if entries is not None:
        raise Fail("a malformed birthdate was answered as an empty search, not refused")
    return expect_refusal(resp, (400, 422), "a malformed birthdate")
