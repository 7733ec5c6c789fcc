"""Canonical URIs of every code system the terminology package knows about.

Use these constants rather than string literals so the generator, the gateway and the
terminology always agree on system URIs.
"""

from __future__ import annotations

# --- international code systems (pivot / eHDSI MVC) --------------------------------------
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ATC = "http://www.whocc.no/atc"
EDQM = "http://standardterms.edqm.eu"
UCUM = "http://unitsofmeasure.org"
ORPHA = "https://www.orpha.net"
BCP47 = "urn:ietf:bcp:47"
# eHDSI MVC 8.1.0 spells ISO 3166-1 this way (kept as published).
ISO3166_EHDSI = "http://terminology.hl7.org/5.3.0/CodeSystem-ISO3166Part1.html"
ISO3166 = "urn:iso:std:iso:3166"
EHDSI_DISPLAY_LABEL = "urn:oid:1.3.6.1.4.1.12559.11.10.1.3.1.44.4"
EHDSI_MEDICAL_DEVICE = "urn:oid:1.3.6.1.4.1.12559.11.10.1.3.1.44.6"
ISCO = "urn:oid:2.16.840.1.113883.2.9.6.2.7"

# --- HL7 FHIR / THO code systems ------------------------------------------------------------
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
ALLERGY_CRITICALITY = "http://hl7.org/fhir/allergy-intolerance-criticality"
ALLERGY_TYPE = "http://hl7.org/fhir/allergy-intolerance-type"
ALLERGY_CATEGORY = "http://hl7.org/fhir/allergy-intolerance-category"
REACTION_SEVERITY = "http://hl7.org/fhir/reaction-event-severity"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
OBSERVATION_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
REFERENCE_RANGE_MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
ABSENT_UNKNOWN_UV_IPS = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
SUBSTANCE_ADMIN_SUBSTITUTION = "http://terminology.hl7.org/CodeSystem/v3-substanceAdminSubstitution"
TIMING_EVENT = "http://terminology.hl7.org/CodeSystem/v3-TimingEvent"
ADDRESS_USE = "http://terminology.hl7.org/CodeSystem/v3-AddressUse"
SEX_PARAMETER = "http://terminology.hl7.org/CodeSystem/sex-parameter-for-clinical-use"

#: International code systems of the European pivot (MVC) and HL7's own: a code of one of these is a
#: European code already, so one the catalogue lacks is "not translated", never "no European code".
STANDARD_SYSTEMS = frozenset({SNOMED, LOINC, ICD10, ATC, EDQM, UCUM, ORPHA, BCP47, ISO3166_EHDSI, ISO3166,
                              EHDSI_DISPLAY_LABEL, EHDSI_MEDICAL_DEVICE, ISCO})
_HL7_PREFIXES = ("http://terminology.hl7.org/CodeSystem/", "http://hl7.org/fhir/")


def is_standard_system(system: str) -> bool:
    """True for the pivot's international code systems and HL7's own code systems (THO, FHIR core).

    Not for the external systems FHIR names under ``http://hl7.org/fhir/sid/`` (ICD-9-CM, ICD-10-CM,
    ICPC-2, NDC, CVX...): national or regional, they are no European code (ICD-10 is listed above)."""
    if system in STANDARD_SYSTEMS:
        return True
    return system.startswith(_HL7_PREFIXES) and not system.startswith("http://hl7.org/fhir/sid/")


# --- national code systems (the MTC part) --------------------------------------------------
CIM10_FR = "https://smt.esante.gouv.fr/terminologie-cim-10/"
CIP13_FR = "urn:oid:1.2.250.1.213.2.3.2"  # CIP (presentations); ...2.3.1 is CIS (specialities)
ICD10GM_DE = "http://fhir.de/CodeSystem/bfarm/icd-10-gm"
PZN_DE = "http://fhir.de/CodeSystem/ifa/pzn"
# Italy (HL7 Italia): ICD-9-CM, in its Italian 2007 version the official classification of hospital
# discharge records (SDO), under the FHIR URI HL7 Italia uses (alias ``$icd-9-cm`` and ValueSet
# ``who-icd9cm`` of the HL7 Italia Terminology IG); medicinal products by AIFA's AIC code, canonical
# URL of the CodeSystem ``aifa-aic`` of the HL7 Italia Terminology IG (build.fhir.org/ig/hl7-it/terminology)
ICD9CM_IT = "http://hl7.org/fhir/sid/icd-9-cm"
AIC_IT = "https://www.hl7.it/fhir/terminology/CodeSystem/aifa-aic"

#: national code systems per country (ISO 3166-1 alpha-2), in the country's language
NATIONAL_SYSTEMS: dict[str, dict[str, str]] = {
    "FR": {"problem": CIM10_FR, "medication": CIP13_FR},
    "DE": {"problem": ICD10GM_DE, "medication": PZN_DE},
    "IT": {"problem": ICD9CM_IT, "medication": AIC_IT},
}
#: language of the displays of each national code system
NATIONAL_LANGUAGE: dict[str, str] = {
    CIM10_FR: "fr", CIP13_FR: "fr", ICD10GM_DE: "de", PZN_DE: "de", ICD9CM_IT: "it", AIC_IT: "it",
}
COUNTRY_LANGUAGE: dict[str, str] = {"FR": "fr", "DE": "de", "IT": "it"}

# --- project extensions ---------------------------------------------------------------------
NCPEH_SD = "http://ncpeh.example.eu/fhir/StructureDefinition"
#: on a CodeableConcept/Coding element whose national code has no pivot mapping (valueCode = system|code)
EXT_UNMAPPED = f"{NCPEH_SD}/terminology-unmapped"
#: on a Coding added by transcoding (valueBoolean true): marks it as the pivot translation
EXT_TRANSCODED = f"{NCPEH_SD}/terminology-transcoded"
#: on a translated display (inside the translation extension): the language actually used when the
#: requested one was missing (valueCode), i.e. the fallback chain applied
EXT_TRANSLATION_FALLBACK = f"{NCPEH_SD}/terminology-translation-fallback"
#: on a Coding whose code is unknown to the terminology, at translation time (valueBoolean true)
EXT_UNKNOWN_CODE = f"{NCPEH_SD}/terminology-unknown-code"
#: ConceptMap element additional target convention (see PROVENANCE.md): which product attribute
EXT_MAP_ATTRIBUTE = f"{NCPEH_SD}/conceptmap-target-attribute"

# --- standard FHIR extensions used -----------------------------------------------------------
EXT_TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
EXT_NARRATIVE_LANGUAGE = "http://hl7.org/fhir/StructureDefinition/language"
