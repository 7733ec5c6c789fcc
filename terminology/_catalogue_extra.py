"""Concepts patient summaries use that the eHDSI MVC 8.1.0 snapshot lacks: the coded entries of the HL7 IPS
2.0.0 example Bundles, the small enumerated IPS value sets (current smoking status, pregnancy status and
summary, vaccination target diseases), smoking-status answers. Published English displays (SNOMED CT
preferred term, LOINC long common name, ICD-O-3 title). Appended to ``_catalogue_data.EXTRA``.
"""

from __future__ import annotations

from .systems import LOINC, SNOMED

ICD_O_3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"

#: entries of the HL7 IPS 2.0.0 example Bundles (tests/terminology/fixtures/ips-examples/)
IPS_EXAMPLES: list[tuple[str, str, str]] = [
    (LOINC, "104605-1", "Alert"),
    (LOINC, "55188-7", "Patient data Document"),
    (LOINC, "75310-3", "Health concerns Document"),
    (LOINC, "81338-6", "Patient Goals, preferences, and priorities for care experience"),
    (LOINC, "3141-9", "Body weight Measured"),
    (LOINC, "42803-7", "Bacteria identified in Isolate"),
    (LOINC, "49062-3", "Lipid risk factors [Finding]"),
    (LOINC, "945-6", "C Ab [Presence] in Serum or Plasma"),
    (LOINC, "1018-1", "E Ab [Presence] in Serum or Plasma"),
    (LOINC, "1156-9", "little c Ab [Presence] in Serum or Plasma"),
    (SNOMED, "108575001", "Product containing lisinopril"),
    (SNOMED, "318913001", "Product containing cilazapril"),
    (SNOMED, "412588001", "Cimicifuga racemosa extract"),
    (SNOMED, "429625007", "No known food allergy"),
    (SNOMED, "1255002008", "Shellfish free diet"),
    (SNOMED, "158965000", "Medical practitioner"),
    (SNOMED, "81464008", "Clinical pathologist"),
    (SNOMED, "11207009", "Right thigh"),
    (SNOMED, "72098002", "Entire left upper arm"),
    # SNOMED CT US extension body structures used by the IPS immunization example
    (SNOMED, "16217661000119109", "Structure of right deltoid muscle"),
    (SNOMED, "16217701000119102", "Structure of left deltoid muscle"),
    (SNOMED, "262285001", "Weight decreased"),
    (SNOMED, "27113001", "Body weight"),
    (SNOMED, "304253006", "Not for resuscitation"),
    (SNOMED, "386661006", "Fever"),
    (SNOMED, "59621000", "Essential hypertension"),
    (SNOMED, "82971005", "Impaired mobility"),
    (ICD_O_3, "8500/3", "Infiltrating duct carcinoma, NOS"),
]

#: IPS current-smoking-status-uv-ips (SNOMED CT), LOINC smoking-status answers (LL2201-3), IPS
#: pregnancy-status-uv-ips and pregnancies-summary-uv-ips
SOCIAL_PREGNANCY: list[tuple[str, str, str]] = [
    (SNOMED, "449868002", "Smokes tobacco daily"),
    (SNOMED, "428041000124106", "Occasional tobacco smoker"),
    (SNOMED, "266927001", "Tobacco smoking consumption unknown"),
    (SNOMED, "230063004", "Heavy cigarette smoker"),
    (SNOMED, "230060001", "Light cigarette smoker"),
    (LOINC, "LA18976-3", "Current every day smoker"),
    (LOINC, "LA18977-1", "Current some day smoker"),
    (LOINC, "LA15920-4", "Former smoker"),
    (LOINC, "LA18978-9", "Never smoker"),
    (LOINC, "LA18980-5", "Smoker, current status unknown"),
    (LOINC, "LA18981-3", "Heavy tobacco smoker"),
    (LOINC, "LA18982-1", "Light tobacco smoker"),
    (LOINC, "LA4489-6", "Unknown"),
    (SNOMED, "152231000119106", "Pregnancy not yet confirmed"),
    (SNOMED, "146799005", "Possible pregnancy"),
    (LOINC, "11637-6", "[#] Births.preterm"),
    (LOINC, "11638-4", "[#] Births.still living"),
    (LOINC, "11639-2", "[#] Births.term"),
    (LOINC, "11640-0", "[#] Births total"),
    (LOINC, "11612-9", "[#] Abortions"),
    (LOINC, "11613-7", "[#] Abortions.induced"),
    (LOINC, "11614-5", "[#] Abortions.spontaneous"),
    (LOINC, "33065-4", "[#] Ectopic pregnancy"),
]

#: IPS target-diseases-uv-ips codes the catalogue lacked (FSN without semantic tag, as in the IPS value set)
TARGET_DISEASES: list[tuple[str, str, str]] = [
    (SNOMED, code, display) for code, display in (
        ("4834000", "Typhoid fever"),
        ("16541001", "Yellow fever"),
        ("14168008", "Rabies"),
        ("18624000", "Disease caused by Rotavirus"),
        ("23502006", "Lyme disease"),
        ("24662006", "Influenza caused by Influenza B virus"),
        ("25225006", "Disease caused by Adenovirus"),
        ("32398004", "Bronchitis"),
        ("37246009", "Disease caused by rickettsiae"),
        ("38907003", "Varicella"),
        ("50711007", "Viral hepatitis type C"),
        ("52947006", "Japanese encephalitis virus disease"),
        ("56717001", "Tuberculosis"),
        ("58750007", "Plague"),
        ("63650001", "Cholera"),
        ("67924001", "Smallpox"),
        ("70036007", "Haemophilus influenzae pneumonia"),
        ("75702008", "Brucellosis"),
        ("85904008", "Paratyphoid fever"),
        ("111852003", "Vaccinia"),
        ("186150001", "Enteritis caused by rotavirus"),
        ("186772009", "Rocky Mountain spotted fever"),
        ("186788009", "Q fever"),
        ("240613006", "Typhus group rickettsial disease"),
        ("372244006", "Malignant melanoma"),
        ("398565003", "Infection caused by Clostridium botulinum"),
        ("409498004", "Anthrax"),
        ("417093003", "Disease caused by West Nile virus"),
        ("442438000", "Influenza caused by Influenza A virus"),
        ("442696006", "Influenza caused by Influenza A virus subtype H1N1"),
        ("450715004", "Influenza caused by Influenza A virus subtype H7"),
        ("707448003", "Influenza caused by Influenza A virus subtype H7N9"),
        ("709410003", "Haemophilus influenzae type b infection"),
        ("713083002", "Influenza caused by Influenza A virus subtype H5"),
        ("772810003", "Influenza caused by Influenza A virus subtype H3N2"),
        ("772828001", "Influenza caused by Influenza A virus subtype H5N1"),
    )
]

EXTRA: list[tuple[str, str, str]] = [*IPS_EXAMPLES, *SOCIAL_PREGNANCY, *TARGET_DISEASES]
