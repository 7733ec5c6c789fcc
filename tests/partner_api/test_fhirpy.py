"""An integrator's code on a third-party FHIR client (fhirpy's synchronous client): capabilities, a patient
searched across the border, her summary, and errors that arrive as OperationOutcomes."""

from __future__ import annotations

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, OperationOutcome, ResourceNotFound

from tests.conftest import Running
from tests.partner_api.conftest import FR_INS_SYSTEM, INS


def access_token(running: Running, code: str = "DE") -> str:
    """Client credentials with the demo client's secret, read from the JSON the demo writes."""
    creds = running.partner_credentials(code)
    session = requests.Session()
    session.trust_env = False
    resp = session.post(creds["token_url"], data={"grant_type": "client_credentials", "scope": "system/Patient.read"},
                        auth=(creds["client_id"], creds["client_secret"]), verify=running.ca(code), timeout=10)
    resp.raise_for_status()
    return resp.json()["access_token"]


@pytest.fixture(scope="module")
def client(countries: Running) -> SyncFHIRClient:
    creds = countries.partner_credentials("DE")
    return SyncFHIRClient(
        creds["fhir_base"],
        authorization=f"Bearer {access_token(countries)}",
        extra_headers={"X-Clinician-Assertion": countries.clinician_assertion("DE")},
        # the demo CA; no proxies (fhirpy calls requests.request, which reads the environment)
        requests_config={"verify": countries.ca("DE"), "timeout": 15, "proxies": {"http": None, "https": None}},
    )


def test_reads_the_capability_statement(client):
    capabilities = client.execute("metadata", method="get")
    assert capabilities.resourceType == "CapabilityStatement" and capabilities.fhirVersion == "4.0.1"
    patient = next(r for r in capabilities.rest[0].resource if r.type == "Patient")
    assert {p.name for p in patient.searchParam} >= {"country", "identifier", "family", "given", "birthdate"}
    assert "summary" in {op.name for op in patient.operation}


def test_searches_a_patient_across_the_border_and_fetches_her_summary(client):
    patients = client.resources("Patient").search(
        country="FR", identifier=f"{FR_INS_SYSTEM}|{INS}", family="Dupont", given="Marie", birthdate="1984-05-12",
        gender="female").fetch()
    assert len(patients) == 1
    patient = patients[0]
    assert patient.id.startswith("fr-") and patient.get_by_path(["identifier", 0, "value"]) == INS

    summary = patient.execute("$summary", method="get", params={"language": "en"})
    assert summary.resourceType == "Bundle" and summary.type == "document"
    composition = summary.entry[0].resource
    assert composition.resourceType == "Composition"
    subject = next(e.resource for e in summary.entry if e.resource.resourceType == "Patient")
    assert subject.identifier[0].value == INS

    # the same through the type-level operation, identifier and traits as query parameters
    again = client.resource("Patient").execute("$summary", method="get", params={
        "identifier": f"{FR_INS_SYSTEM}|{INS}", "family": "Dupont", "given": "Marie", "birthdate": "1984-05-12",
        "gender": "female"})
    assert again.type == "document" and again.entry[0].resource.resourceType == "Composition"


def test_errors_reach_the_integrator_as_operation_outcomes(countries, client):
    with pytest.raises(OperationOutcome) as missing:
        client.resources("Patient").search(country="FR", identifier=f"{FR_INS_SYSTEM}|{INS}").fetch()
    issue = missing.value.resource["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "MISSING_TRAIT"

    with pytest.raises(ResourceNotFound):
        client.resource("Patient", id="fr-nobody").execute("$summary", method="get")

    no_clinician = SyncFHIRClient(client.url, authorization=client.authorization,
                                  requests_config=client.requests_config)
    with pytest.raises(AuthorizationError) as refused:
        no_clinician.resources("Patient").search(country="FR", identifier=INS).fetch()
    assert "CLINICIAN_ASSERTION_MISSING" in str(refused.value)
