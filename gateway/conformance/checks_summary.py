"""``$summary``: an IPS document Bundle, Composition first, required sections, references that resolve,
pivot codes beside the national ones."""

from __future__ import annotations

from typing import Any

from gateway.conformance.catalogue import Fail, Skip, check
from gateway.conformance.client import FHIR_JSON, expect_refusal
from gateway.conformance.kit import Kit

IPS = "HL7 FHIR IPS IG"
DOCUMENT = "FHIR R4 Documents (Bundle.type = document)"
MVC = "eHDSI Master Value Set Catalogue (pivot codes); eHDSI PS FHIR guide (original code kept)"
#: Required sections of the IPS Composition (LOINC): allergies, medication, problems.
REQUIRED_SECTIONS = {"48765-2": "Allergies and intolerances", "10160-0": "Medication summary",
                     "11450-4": "Problem list"}
#: Code systems of the eHDSI pivot (MVC) value sets; a coding in another system is a national original.
PIVOT_SYSTEMS = ("http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10", "http://www.whocc.no/atc",
                 "http://standardterms.edqm.eu", "http://loinc.org", "http://unitsofmeasure.org",
                 "urn:oid:1.3.6.1.4.1.12559.11.10.1.3.1", "http://terminology.hl7.org/",
                 "http://hl7.org/fhir/uv/ips/CodeSystem/")
#: Where each kind of clinical resource carries its main code.
CODED = {"Condition": "code", "AllergyIntolerance": "code", "MedicationStatement": "medicationCodeableConcept",
         "MedicationRequest": "medicationCodeableConcept", "Medication": "code", "Procedure": "code",
         "Immunization": "vaccineCode", "Observation": "code", "Device": "type"}


def _resources(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [e.get("resource") for e in doc.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


def _composition(doc: dict[str, Any]) -> dict[str, Any]:
    resources = _resources(doc)
    if not resources or resources[0].get("resourceType") != "Composition":
        raise Skip("the first entry is not a Composition (see SUM-COMPOSITION-FIRST)")
    return resources[0]


@check("SUM-OK", "summary", "$summary of the identified patient answers 200 with application/fhir+json",
       f"{IPS}; FHIR R4 operation $summary")
def summary_ok(kit: Kit) -> str:
    resp = kit.summary_response()
    if resp.status != 200:
        raise Fail(f"expected 200, got {resp.describe()}")
    content_type = resp.headers.get("content-type", "")
    if not content_type.startswith(FHIR_JSON):
        raise Fail(f"Content-Type is {content_type!r}, not {FHIR_JSON}")
    if not isinstance(resp.json(), dict):
        raise Fail("the body is not a JSON object")
    return f"200, {len(resp.body)} bytes"


@check("SUM-DOCUMENT", "summary", "The summary is a Bundle of type 'document'", DOCUMENT)
def document_bundle(kit: Kit) -> str:
    doc = kit.summary()
    if doc.get("resourceType") != "Bundle" or doc.get("type") != "document":
        raise Fail(f"got {doc.get('resourceType')} of type {doc.get('type')!r}")
    return "Bundle.type = document"


@check("SUM-IDENTITY", "summary", "The document Bundle has an identifier and a timestamp", f"{DOCUMENT} (bdl-9, bdl-10)")
def identity(kit: Kit) -> str:
    doc = kit.summary()
    ident = doc.get("identifier")
    if not isinstance(ident, dict) or not ident.get("value"):
        raise Fail("Bundle.identifier.value is missing")
    if not doc.get("timestamp"):
        raise Fail("Bundle.timestamp is missing")
    return "identifier and timestamp present"


@check("SUM-COMPOSITION-FIRST", "summary", "The first entry is the Composition", f"{DOCUMENT} (bdl-11)")
def composition_first(kit: Kit) -> str:
    resources = _resources(kit.summary())
    if not resources or resources[0].get("resourceType") != "Composition":
        raise Fail(f"the first entry is {resources[0].get('resourceType') if resources else 'missing'}")
    return "Composition first"


@check("SUM-COMPOSITION-TYPE", "summary", "The Composition is a final Patient summary Document (LOINC 60591-5)",
       f"{IPS} (Composition-uv-ips)")
def composition_type(kit: Kit) -> str:
    comp = _composition(kit.summary())
    codes = {(c.get("system"), c.get("code")) for c in (comp.get("type") or {}).get("coding") or [] if isinstance(c, dict)}
    if ("http://loinc.org", "60591-5") not in codes:
        raise Fail(f"Composition.type is {sorted(map(str, codes))}")
    if comp.get("status") not in ("final", "amended"):
        raise Fail(f"Composition.status is {comp.get('status')!r}")
    return f"60591-5, {comp.get('status')}"


@check("SUM-SECTIONS", "summary", "The IPS required sections are present: allergies (48765-2), medication (10160-0), "
       "problems (11450-4)", f"{IPS} (required sections)")
def sections(kit: Kit) -> str:
    comp = _composition(kit.summary())
    found = {c.get("code") for s in comp.get("section") or [] if isinstance(s, dict)
             for c in (s.get("code") or {}).get("coding") or [] if isinstance(c, dict) and c.get("system") == "http://loinc.org"}
    missing = [f"{code} {name}" for code, name in REQUIRED_SECTIONS.items() if code not in found]
    if missing:
        raise Fail(f"missing: {', '.join(missing)}")
    return f"{len(found)} section(s), the 3 required present"


@check("SUM-FULLURL", "summary", "Every entry has a fullUrl, and no two entries share one", f"{DOCUMENT} (bdl-7)")
def full_urls(kit: Kit) -> str:
    entries = [e for e in kit.summary().get("entry") or [] if isinstance(e, dict)]
    urls = [e.get("fullUrl") for e in entries]
    if not entries or any(not u for u in urls):
        raise Fail(f"{sum(1 for u in urls if not u)} entr(y/ies) without fullUrl")
    if len(set(urls)) != len(urls):
        raise Fail("duplicate fullUrl")
    return f"{len(urls)} distinct fullUrls"


def _references(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str):
            found.append(ref)
        for key, item in value.items():
            if key != "reference":
                found += _references(item)
    elif isinstance(value, list):
        for item in value:
            found += _references(item)
    return found


@check("SUM-REFERENCES", "summary", "Every reference inside the document resolves to an entry of the Bundle",
       f"{DOCUMENT} (resolving references in Bundles)")
def references(kit: Kit) -> str:
    doc = kit.summary()
    known: set[str] = set()
    for entry in doc.get("entry") or []:
        if isinstance(entry, dict):
            known.add(str(entry.get("fullUrl")))
            res = entry.get("resource") or {}
            if isinstance(res, dict) and res.get("id"):
                known.add(f"{res.get('resourceType')}/{res.get('id')}")
    refs = [r for r in _references(doc.get("entry") or []) if not r.startswith("#")]
    dangling = sorted({r for r in refs if r not in known and not any(k.endswith("/" + r) for k in known)})
    if dangling:
        raise Fail(f"{len(dangling)} unresolved: {', '.join(dangling[:3])}")
    return f"{len(refs)} reference(s), all resolved"


@check("SUM-SUBJECT", "summary", "Composition.subject is the Patient of the Bundle, the patient identified",
       f"{IPS}; eHDSI PS (same patient as identified)")
def subject(kit: Kit) -> str:
    doc = kit.summary()
    comp = _composition(doc)
    ref = (comp.get("subject") or {}).get("reference")
    entry = next((e for e in doc.get("entry") or [] if isinstance(e, dict) and _resolves(e, ref)), None)
    if entry is None or (entry.get("resource") or {}).get("resourceType") != "Patient":
        raise Fail(f"Composition.subject {ref!r} is not a Patient entry of the Bundle")
    system, _, value = kit.settings.patient.get("identifier", "").rpartition("|")
    given = [(i.get("system"), i.get("value")) for i in entry["resource"].get("identifier") or [] if isinstance(i, dict)]
    if value and not any(v == value and (not system or s == system) for s, v in given):
        raise Fail("the document's Patient does not carry the identifier of the patient identified")
    return "subject is the identified Patient"


def _resolves(entry: dict, reference: object) -> bool:
    """The entry a (full or relative) reference points at (FHIR Bundle reference resolution)."""
    if not isinstance(reference, str) or not reference:
        return False
    full, res = entry.get("fullUrl"), entry.get("resource") or {}
    relative = f"{res.get('resourceType')}/{res.get('id')}" if isinstance(res, dict) and res.get("id") else None
    return reference in (full, relative) or (isinstance(full, str) and full.endswith("/" + reference))


def _is_pivot(system: str) -> bool:
    return any(system.startswith(prefix) for prefix in PIVOT_SYSTEMS)


@check("SUM-PIVOT", "summary", "National codes are sent with their pivot (MVC) code beside the original; every coded "
       "entry carries a code (those without a pivot code are counted)", MVC)
def pivot(kit: Kit) -> str:
    coded, national, beside, unmapped = 0, 0, 0, []
    for res in _resources(kit.summary()):
        field = CODED.get(str(res.get("resourceType")))
        concept = res.get(field) if field else None
        codings = [c for c in (concept or {}).get("coding") or [] if isinstance(c, dict)] if isinstance(concept, dict) else []
        if not codings:
            continue
        coded += 1
        systems = [str(c.get("system", "")) for c in codings]
        if all(_is_pivot(s) for s in systems):
            continue
        national += 1
        if any(_is_pivot(s) for s in systems):
            beside += 1
        else:
            unmapped.append(f"{res.get('resourceType')}/{res.get('id')}")
    if not coded:
        raise Skip("the summary has no coded clinical entry")
    if national and not beside:
        raise Fail(f"{national} entr(y/ies) in national code systems, none with a pivot code beside the original")
    text = f"{coded} coded entr(y/ies): {coded - national} in pivot systems, {beside} national with the pivot beside"
    return text + (f", {len(unmapped)} national without a pivot code ({', '.join(unmapped[:3])})" if unmapped else "")


@check("SUM-UNKNOWN-PATIENT", "summary", "$summary of an unknown patient id is refused with 404 and an "
       "OperationOutcome", "FHIR R4 RESTful API (read of an unknown resource); eHDSI PS")
def unknown_patient(kit: Kit) -> str:
    resp = kit.summary_call("conformance-kit-unknown-patient")
    return expect_refusal(resp, (404,), "an unknown patient id")


@check("SUM-ETAG", "summary", "The summary answer names its version (ETag) or its Bundle.meta.lastUpdated",
       "FHIR R4 RESTful API (versioning)", severity="warning")
def version(kit: Kit) -> str:
    resp = kit.summary_response()
    doc = kit.summary()
    if resp.headers.get("etag"):
        return f"ETag {resp.headers['etag']}"
    if (doc.get("meta") or {}).get("lastUpdated"):
        return "meta.lastUpdated present"
    raise Fail("neither an ETag nor Bundle.meta.lastUpdated")
