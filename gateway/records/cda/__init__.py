"""CI-SIS CDA medical summaries (the DMP's own documents) -> IPS FHIR documents.

``reader`` parses safely, ``header`` reads the volet and the patient, ``sections`` maps entries,
``narrative`` converts section text, ``convert`` assembles the Bundle and its report.
"""
