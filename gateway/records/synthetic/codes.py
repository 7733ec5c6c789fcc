"""The generator's fixed vocabulary: system URIs, the reference date, sizes, section codes and headings."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from gateway.records import _population_data as data

# ---- system URIs (mirroring terminology.systems; imported lazily there to keep this import cheap)
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
EDQM = "http://standardterms.edqm.eu"
ATC = "http://www.whocc.no/atc"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
OBSERVATION_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ABSENT_UNKNOWN = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
BIRTHPLACE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
FR_INSEE_CODE_EXTENSION = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
FR_INSEE_COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
#: birthplace as the cadastral (Belfiore) code of the comune, or Z + country code when born abroad
IT_BELFIORE_EXTENSION = "http://ncpeh.example.eu/fhir/StructureDefinition/it-birthplace-belfiore-code"
IT_BELFIORE_SYSTEM = "http://ncpeh.example.eu/fhir/sid/it-belfiore"
IPS_BUNDLE_PROFILE = "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips"

#: every date is computed from this fixed day, never from the clock (determinism)
REFERENCE_DATE = date(2025, 1, 15)

SIZES: dict[str, tuple[int, int]] = {"small": (9, 12), "typical": (45, 55), "large": (170, 190)}

SECTION_CODES: dict[str, tuple[str, str]] = {
    "allergies": ("48765-2", "Allergies and adverse reactions Document"),
    "medications": ("10160-0", "History of Medication use Narrative"),
    "problems": ("11450-4", "Problem list - Reported"),
    "immunizations": ("11369-6", "History of Immunization Narrative"),
    "procedures": ("47519-4", "History of Procedures Document"),
    "results": ("30954-2", "Relevant diagnostic tests/laboratory data Narrative"),
    "vital_signs": ("8716-3", "Vital signs"),
    "devices": ("46264-8", "History of medical device use"),
    "past_illness": ("11348-0", "History of Past illness Narrative"),
    "plan_of_care": ("18776-5", "Plan of care note"),
    "pregnancy": ("10162-6", "History of pregnancies Narrative"),
    "social_history": ("29762-2", "Social history Narrative"),
}
ABSENT_DISPLAYS = {
    "no-known-allergies": "No known allergies",
    "no-allergy-info": "No information about allergies",
    "no-known-medications": "No known medications",
    "no-medication-info": "No information about medications",
    "no-known-problems": "No known problems",
    "no-problem-info": "No information about problems",
}
SMOKING_KEYS = {"266919005": "never_smoked", "8517006": "ex_smoker", "77176002": "smoker"}
SMOKING_EN = {"266919005": "Never smoked tobacco", "8517006": "Ex-smoker", "77176002": "Smoker"}

#: countries the generator knows (identity data, texts and a terminology catalogue)
COUNTRIES: tuple[str, ...] = ("FR", "DE", "IT")
LANG = {"FR": "fr", "DE": "de", "IT": "it"}
BCP47 = {"FR": "fr-FR", "DE": "de-DE", "IT": "it-IT"}
#: code systems whose concepts carry their national display in ``coding.display``
NATIONAL_SYSTEMS = frozenset({
    "https://smt.esante.gouv.fr/terminologie-cim-10/", "urn:oid:1.2.250.1.213.2.3.2",
    "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "http://fhir.de/CodeSystem/ifa/pzn",
    "http://hl7.org/fhir/sid/icd-9-cm", "https://www.hl7.it/fhir/terminology/CodeSystem/aifa-aic",
})
INTERP_DISPLAY = {"L": "Low", "H": "High", "N": "Normal"}
#: columns of the sections that may hold an absent-or-unknown statement
HEADERS_LEN = {"allergies": 4, "medications": 3, "problems": 3}


@lru_cache(maxsize=8)
def headers(lang: str) -> dict[str, tuple[str, ...]]:
    t = data.TEXTS[lang]
    return {
        "allergies": (t["h_agent"], t["h_reaction"], t["h_criticality"], t["h_since"]),
        "medications": (t["h_medication"], t["h_dosage"], t["h_start"]),
        "problems": (t["h_problem"], t["h_status"], t["h_onset"]),
        "immunizations": (t["h_vaccine"], t["h_dose"], t["h_date"]),
        "procedures": (t["h_procedure"], t["h_date"]),
        "results": (t["h_test"], t["h_value"], t["h_range"], t["h_date"]),
        "vital_signs": (t["h_test"], t["h_value"], t["h_range"], t["h_date"]),
        "devices": (t["h_device"], t["h_since"]),
        "past_illness": (t["h_problem"], t["h_status"], t["h_onset"], t["h_end"]),
        "plan_of_care": (t["h_plan"], t["h_start"]),
        "pregnancy": (t["h_item"], t["h_value"], t["h_range"], t["h_date"]),
        "social_history": (t["h_item"], t["h_value"], t["h_range"], t["h_date"]),
    }
