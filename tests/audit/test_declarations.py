"""Each API view declares its audit event; the app refuses to start when one does not."""

from __future__ import annotations

import functools

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Blueprint, Flask, request

from gateway import audit_trail as trail
from gateway import errors, storage
from gateway.app import create_app, register_api
from gateway.audit import events
from gateway.audit.events import Outcome
from gateway.security.assertions import AssertionSigner
from gateway.security.pki import load_certificate, load_private_key
from gateway.security.trustlist import key_id
from gateway.server.worker import ENVIRON_KEY
from gateway.surfaces import ncp_api
from tests.conftest import CLINICIAN, make_topology

API_BLUEPRINTS = {"public": ("oauth", "terminology_api", "partner_api", "patient_portal"), "ncp": ("ncp_api",)}


@pytest.fixture(scope="module")
def topo(tmp_path_factory):
    topo = make_topology(tmp_path_factory.mktemp("audit-declarations"), ["FR", "DE"])
    topo.prepare(patients=0)
    return topo


@pytest.fixture(scope="module")
def cfg(topo):
    return topo.configs["DE"]


def records(cfg, request_id):
    store = storage.open_store(cfg.database_path)
    try:
        return [e for e in store.audit.entries() if e.request_id == request_id]
    finally:
        store.close()


@pytest.mark.parametrize("surface", ["public", "ncp"])
def test_every_view_of_the_api_blueprints_declares_its_audit(cfg, surface):
    app = create_app(cfg, surface)
    for name in API_BLUEPRINTS[surface]:
        views = [e for e in app.view_functions if e.startswith(name + ".")]
        assert views, name
        assert trail.undeclared_views(app, name) == []
    if surface == "public":
        declared = trail.declaration(app.view_functions["partner_api.patient_summary"])
        assert (declared.event, declared.side) == (events.SUMMARY, events.REQUESTING)
        assert trail.declaration(app.view_functions["partner_api.metadata"]).event is None
        assert trail.declaration(app.view_functions["oauth.token"]).event == events.TOKEN
    else:
        declared = trail.declaration(app.view_functions["ncp_api.original_document"])
        assert (declared.event, declared.side) == (events.SUMMARY, events.RESPONDING)


def test_an_app_with_an_undeclared_api_view_does_not_build(cfg):
    app = create_app(cfg, "public")
    bp = Blueprint("extra_api", __name__, url_prefix="/extra")

    @bp.get("/declared")
    @trail.audited(events.SUMMARY, events.REQUESTING)
    def declared():
        return "ok"

    @bp.get("/forgotten")
    def forgotten():
        return "not recorded"

    with pytest.raises(ValueError, match=r"extra_api\.forgotten") as raised:
        register_api(app, bp, audit=trail.BlueprintRule(side=events.REQUESTING))
    assert "extra_api.declared" not in str(raised.value)
    with pytest.raises(ValueError, match="reason"):
        trail.not_audited(" ")


def test_a_renamed_view_keeps_its_audit_even_when_refused_before_it_runs(cfg):
    """The event comes from the view's declaration, not from its endpoint name; the blueprint's
    authentication hook refusing the call (the view never runs) still records that event."""
    app = create_app(cfg, "public")
    bp = Blueprint("renamed_api", __name__, url_prefix="/renamed")

    @bp.get("/Patient/<patient_id>/$summary")
    @trail.audited(events.SUMMARY, events.REQUESTING)
    def a_name_no_table_knows(patient_id: str):
        return "summary"

    @bp.get("/metadata")
    @trail.not_audited("public")
    def about():
        return "about"

    def authenticate() -> None:
        if request.headers.get("Authorization") != "Bearer ok":
            raise errors.Unauthorized("no", code="NO_TOKEN")

    register_api(app, bp, authenticate=authenticate, audit=trail.BlueprintRule(side=events.REQUESTING))
    client = app.test_client()
    ok = client.get("/renamed/Patient/fr-abc/$summary", headers={"Authorization": "Bearer ok"}, base_url="https://x")
    assert ok.status_code == 200
    (entry,) = records(cfg, ok.headers["X-Request-ID"])
    assert (entry.event, entry.side, entry.outcome, entry.patient_id) == (events.SUMMARY, events.REQUESTING,
                                                                          Outcome.SUCCESS, "fr-abc")
    assert entry.peer_country == "FR" and entry.detail["endpoint"] == "renamed_api.a_name_no_table_knows"
    refused = client.get("/renamed/Patient/fr-abc/$summary", base_url="https://x")
    assert refused.status_code == 401 and refused.get_json()["resourceType"] == "OperationOutcome"
    (entry,) = records(cfg, refused.headers["X-Request-ID"])
    assert (entry.event, entry.outcome, entry.outcome_code) == (events.SUMMARY, Outcome.REFUSED, "NO_TOKEN")
    # a view declared not audited writes nothing when it answers, but the blueprint rule records its refusal
    quiet = client.get("/renamed/metadata", headers={"Authorization": "Bearer ok"}, base_url="https://x")
    assert quiet.status_code == 200 and records(cfg, quiet.headers["X-Request-ID"]) == []
    refused = client.get("/renamed/metadata", base_url="https://x")
    (entry,) = records(cfg, refused.headers["X-Request-ID"])
    assert (entry.event, entry.side, entry.outcome_code) == (events.API, events.REQUESTING, "NO_TOKEN")


def test_the_token_endpoint_renders_oauth_errors_and_every_other_error_as_an_operation_outcome(cfg):
    """One renderer per blueprint: /oauth/token's own errors are RFC 6749 JSON (and recorded with their
    error code), anything else there is the OperationOutcome of every API."""
    client = create_app(cfg, "public").test_client()
    resp = client.post("/oauth/token", json={"grant_type": "client_credentials"}, base_url="https://x")
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_request"
    assert "resourceType" not in resp.get_json()
    (entry,) = records(cfg, resp.headers["X-Request-ID"])
    assert (entry.event, entry.outcome_code) == (events.TOKEN, "invalid_request")
    big = client.post("/oauth/token", data="grant_type=client_credentials&x=" + "y" * (6 * 1024 * 1024),
                      content_type="application/x-www-form-urlencoded", base_url="https://x")
    assert big.status_code == 413 and big.get_json()["resourceType"] == "OperationOutcome"
    (entry,) = records(cfg, big.headers["X-Request-ID"])
    assert (entry.event, entry.outcome_code) == (events.TOKEN, "PAYLOAD_TOO_LARGE")


def test_a_call_about_one_patient_on_the_ncpeh_listener_needs_a_trc_assertion_whatever_its_view_is_called(topo):
    """The TRC requirement follows the route (a patient id in its path), not a list of view names."""
    fr, de = topo.configs["FR"], topo.configs["DE"]
    app = create_app(fr, "ncp")
    bp = Blueprint("per_patient", __name__, url_prefix="/extra")

    @bp.get("/Patient/<patient_id>/$everything")
    @trail.audited(events.SUMMARY, events.RESPONDING)
    def any_name(patient_id: str):
        return "released"

    register_api(app, bp, authenticate=ncp_api.authenticate_peer, audit=trail.BlueprintRule(side=events.RESPONDING))
    # the TLS peer certificate as the gunicorn worker hands it over (gateway.server.worker)
    app.wsgi_app = functools.partial(Flask.wsgi_app, app)  # type: ignore[method-assign]
    der = load_certificate(de.certs.client_cert).public_bytes(Encoding.DER)
    key = load_private_key(de.certs_dir / de.slug / "signing.key")
    signer = AssertionSigner(de.code, de.ncp.url, key_id(key.public_key()), key)
    client = app.test_client()
    url = "/extra/Patient/p123/$everything"
    hcp_only = client.get(url, environ_base={ENVIRON_KEY: der}, base_url="https://x", headers={
        "Authorization": "Bearer " + signer.hcp(CLINICIAN, "TREATMENT", fr.ncp.url)})
    assert hcp_only.status_code == 403 and hcp_only.get_json()["issue"][0]["details"]["coding"][0]["code"] == \
        "TRC_ASSERTION_MISSING"
    (entry,) = records(fr, hcp_only.headers["X-Request-ID"])
    assert (entry.event, entry.side, entry.peer_country, entry.actor_id) == (events.SUMMARY, events.RESPONDING, "DE",
                                                                             CLINICIAN.id)
    both = client.get(url, environ_base={ENVIRON_KEY: der}, base_url="https://x", headers={
        "Authorization": "Bearer " + signer.hcp(CLINICIAN, "TREATMENT", fr.ncp.url),
        "X-TRC-Assertion": signer.trc(CLINICIAN, "TREATMENT", "p123", fr.ncp.url)})
    assert both.status_code == 200 and both.data == b"released"
