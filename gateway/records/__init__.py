"""Patient records: national identifiers, IPS document validation and the synthetic population.

Pure functions only (no Flask, no SQL). Import the submodules directly::

    from gateway.records.identifiers import IDENTIFIER_SCHEMES, IdentifierError
    from gateway.records.ips_validation import validate_ips, parse_json_document
    from gateway.records.synthetic import generate_patient, iter_population

This package deliberately imports nothing at package level: ``ips_validation`` pulls in the
``fhir.resources`` models lazily and ``synthetic`` loads the terminology catalogue on first use.
"""
