"""Patient records: national identifiers, IPS document validation and the synthetic population.

Pure functions only (no Flask, no SQL). Import the submodules directly: ``gateway.records.identifiers``
(``IDENTIFIER_SCHEMES``, ``IdentifierError``), ``gateway.records.ips_validation`` (``validate_ips``,
``parse_json_document``), ``gateway.records.synthetic`` (``generate_patient``, ``iter_population``).

This package imports nothing at package level: ``ips_validation`` imports the ``fhir.resources`` models
on the first validation, and ``synthetic`` prepares the terminology catalogue on first use.
"""
