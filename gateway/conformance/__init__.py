"""The conformance kit: checks another NCPeH's NCPeH-to-NCPeH API, acting as a foreign NCPeH would.

``ncpeh conformance --target https://HOST:PORT/fhir …`` (see :mod:`gateway.cli_conformance`) runs the
catalogue of :mod:`gateway.conformance.catalogue`; the kit relies only on the documented contract
(docs/trust-and-assertions.md), never on the target being this project.
"""
