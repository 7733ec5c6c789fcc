"""Common laboratory tests and vital signs (LOINC) the eHDSI MVC 8.1.0 snapshot lacks (its eHDSILabCode value
set was not shipped): blood count, chemistry, lipids, HbA1c, coagulation, thyroid, iron and vitamins, cardiac
markers, PSA, urinalysis, common serologies. English display = LOINC long common name. Appended to
``_catalogue_data.EXTRA``; the catalogue's own laboratory results (``SHARED['lab_result']``) are not repeated.
"""

from __future__ import annotations

from .systems import LOINC

_LAB: tuple[tuple[str, str], ...] = (
    # complete blood count
    ("58410-2", "CBC panel - Blood by Automated count"),
    ("57021-8", "CBC W Auto Differential panel - Blood"),
    ("789-8", "Erythrocytes [#/volume] in Blood by Automated count"),
    ("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count"),
    ("787-2", "MCV [Entitic volume] by Automated count"),
    ("785-6", "MCH [Entitic mass] by Automated count"),
    ("786-4", "MCHC [Mass/volume] by Automated count"),
    ("788-0", "Erythrocyte distribution width [Ratio] by Automated count"),
    ("751-8", "Neutrophils [#/volume] in Blood by Automated count"),
    ("731-0", "Lymphocytes [#/volume] in Blood by Automated count"),
    ("742-7", "Monocytes [#/volume] in Blood by Automated count"),
    ("711-2", "Eosinophils [#/volume] in Blood by Automated count"),
    ("704-7", "Basophils [#/volume] in Blood by Automated count"),
    ("770-8", "Neutrophils/100 leukocytes in Blood by Automated count"),
    ("736-9", "Lymphocytes/100 leukocytes in Blood by Automated count"),
    ("4537-7", "Erythrocyte sedimentation rate by Westergren method"),
    # chemistry
    ("2075-0", "Chloride [Moles/volume] in Serum or Plasma"),
    ("2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma"),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
    ("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma"),
    ("3091-6", "Urea [Mass/volume] in Serum or Plasma"),
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma"),
    ("1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma"),
    ("17861-6", "Calcium [Mass/volume] in Serum or Plasma"),
    ("2000-8", "Calcium [Moles/volume] in Serum or Plasma"),
    ("2777-1", "Phosphate [Mass/volume] in Serum or Plasma"),
    ("19123-9", "Magnesium [Mass/volume] in Serum or Plasma"),
    ("6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma"),
    ("2324-2", "Gamma glutamyl transferase [Enzymatic activity/volume] in Serum or Plasma"),
    ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma"),
    ("1968-7", "Bilirubin.direct [Mass/volume] in Serum or Plasma"),
    ("14631-6", "Bilirubin.total [Moles/volume] in Serum or Plasma"),
    ("1751-7", "Albumin [Mass/volume] in Serum or Plasma"),
    ("2885-2", "Protein [Mass/volume] in Serum or Plasma"),
    ("30522-7", "C reactive protein [Mass/volume] in Serum or Plasma by High sensitivity method"),
    ("3084-1", "Urate [Mass/volume] in Serum or Plasma"),
    ("2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma"),
    ("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma"),
    ("1798-8", "Amylase [Enzymatic activity/volume] in Serum or Plasma"),
    ("3040-3", "Lipase [Enzymatic activity/volume] in Serum or Plasma"),
    ("24323-8", "Comprehensive metabolic 2000 panel - Serum or Plasma"),
    ("51990-0", "Basic metabolic panel - Blood"),
    ("33914-3", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by "
                "Creatinine-based formula (MDRD)"),
    # lipids (mass and molar units), HbA1c
    ("2089-1", "Cholesterol in LDL [Mass/volume] in Serum or Plasma"),
    ("18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay"),
    ("9830-1", "Cholesterol.total/Cholesterol in HDL [Mass Ratio] in Serum or Plasma"),
    ("43396-1", "Cholesterol non HDL [Mass/volume] in Serum or Plasma"),
    ("24331-1", "Lipid 1996 panel - Serum or Plasma"),
    ("14647-2", "Cholesterol [Moles/volume] in Serum or Plasma"),
    ("14646-4", "Cholesterol in HDL [Moles/volume] in Serum or Plasma"),
    ("39469-2", "Cholesterol in LDL [Moles/volume] in Serum or Plasma by calculation"),
    ("14927-8", "Triglyceride [Moles/volume] in Serum or Plasma"),
    ("32309-7", "Cholesterol.total/Cholesterol in HDL [Molar ratio] in Serum or Plasma"),
    ("17856-6", "Hemoglobin A1c/Hemoglobin.total in Blood by HPLC"),
    ("59261-8", "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol"),
    # coagulation
    ("5902-2", "Prothrombin time (PT)"),
    ("34714-6", "INR in Blood by Coagulation assay"),
    ("3173-2", "aPTT in Blood by Coagulation assay"),
    ("14979-9", "aPTT in Platelet poor plasma by Coagulation assay"),
    ("3255-7", "Fibrinogen [Mass/volume] in Platelet poor plasma by Coagulation assay"),
    # thyroid, iron, vitamins
    ("3024-7", "Thyroxine (T4) free [Mass/volume] in Serum or Plasma"),
    ("2498-4", "Iron [Mass/volume] in Serum or Plasma"),
    ("2502-3", "Iron saturation [Mass Fraction] in Serum or Plasma"),
    ("3034-6", "Transferrin [Mass/volume] in Serum or Plasma"),
    ("1989-3", "25-Hydroxyvitamin D3+25-Hydroxyvitamin D2 [Mass/volume] in Serum or Plasma"),
    ("2132-9", "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma"),
    ("2284-8", "Folate [Mass/volume] in Serum or Plasma"),
    # cardiac markers, PSA
    ("6598-7", "Troponin T.cardiac [Mass/volume] in Serum or Plasma"),
    ("10839-9", "Troponin I.cardiac [Mass/volume] in Serum or Plasma"),
    ("33762-6", "Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma"),
    ("30934-4", "Natriuretic peptide B [Mass/volume] in Serum or Plasma"),
    ("2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma"),
    # urine
    ("24356-8", "Urinalysis complete panel - Urine"),
    ("5811-5", "Specific gravity of Urine by Test strip"),
    ("5803-2", "pH of Urine by Test strip"),
    ("5804-0", "Protein [Mass/volume] in Urine by Test strip"),
    ("5792-7", "Glucose [Mass/volume] in Urine by Test strip"),
    ("5797-6", "Ketones [Mass/volume] in Urine by Test strip"),
    ("5794-3", "Hemoglobin [Presence] in Urine by Test strip"),
    ("5799-2", "Leukocyte esterase [Presence] in Urine by Test strip"),
    ("5802-4", "Nitrite [Presence] in Urine by Test strip"),
    ("2161-8", "Creatinine [Mass/volume] in Urine"),
    ("9318-7", "Albumin/Creatinine [Mass Ratio] in Urine"),
    ("14959-1", "Microalbumin/Creatinine [Mass Ratio] in Urine"),
    # serology, virology
    ("5196-1", "Hepatitis B virus surface Ag [Presence] in Serum or Plasma by Immunoassay"),
    ("16935-9", "Hepatitis B virus surface Ab [Units/volume] in Serum"),
    ("13955-0", "Hepatitis C virus Ab [Presence] in Serum or Plasma by Immunoassay"),
    ("16128-1", "Hepatitis C virus Ab [Presence] in Serum"),
    ("94500-6", "SARS-CoV-2 (COVID-19) RNA [Presence] in Respiratory system specimen by NAA with probe detection"),
    ("94309-2", "SARS-CoV-2 (COVID-19) RNA [Presence] in Specimen by NAA with probe detection"),
    ("94558-4", "SARS-CoV-2 (COVID-19) Ag [Presence] in Respiratory system specimen by Rapid immunoassay"),
    # vital signs
    ("85353-1", "Vital signs, weight, height, head circumference, oxygen saturation and BMI panel"),
    ("9843-4", "Head Occipital-frontal circumference"),
    ("2708-6", "Oxygen saturation in Arterial blood"),
    ("8478-0", "Mean blood pressure"),
)

EXTRA: list[tuple[str, str, str]] = [(LOINC, code, display) for code, display in _LAB]
