"""What the API says it supports (CapabilityStatement, OpenAPI, Allow) is exactly what its routes serve."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from gateway.app import create_app
from gateway.surfaces.partner_api import SEARCH_PARAMETERS
from tests.conftest import Running
from tests.partner_api.conftest import plain

#: The prefixes of the partner API on the public listener (the rest is the portal and /_status).
API_PREFIXES = ("/fhir/", "/oauth/", "/.well-known/", "/openapi.json")
CATCH_ALL = "partner_api.unknown"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def app(countries: Running) -> Flask:
    """The public listener's application, as the running DE instance builds it (routes only; nothing served)."""
    return create_app(countries.configs["DE"], "public")


def api_routes(app: Flask) -> dict[str, set[str]]:
    """OpenAPI-style path ({name}) -> methods, for every route of the partner API but the 404/405 catch-all."""
    out: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == CATCH_ALL or not rule.rule.startswith(API_PREFIXES):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        out.setdefault(path, set()).update(set(rule.methods or ()) - IGNORED_METHODS)
    return out


def served_capabilities(app: Flask) -> set[tuple[str, str]]:
    """(resource type, interaction or $operation) for every FHIR route."""
    out = set()
    for path, methods in api_routes(app).items():
        parts = path.removeprefix("/fhir/").split("/")
        if not path.startswith("/fhir/") or parts == ["metadata"]:
            continue
        kind, last = parts[0], parts[-1]
        if last.startswith("$"):
            out.add((kind, last))
        elif len(parts) == 1 and methods == {"GET"}:
            out.add((kind, "search-type"))
        elif len(parts) == 2 and methods == {"GET"}:
            out.add((kind, "read"))
        else:
            raise AssertionError(f"a route this test does not know how to describe: {path} {methods}")
    return out


def declared_capabilities(statement: dict) -> set[tuple[str, str]]:
    out = set()
    for resource in statement["rest"][0]["resource"]:
        out |= {(resource["type"], i["code"]) for i in resource.get("interaction", [])}
        out |= {(resource["type"], "$" + op["name"]) for op in resource.get("operation", [])}
    return out


def test_capability_statement_lists_exactly_what_the_routes_serve(countries, app):
    statement = plain(countries).get(countries.public("DE") + "/fhir/metadata", timeout=10).json()
    served = served_capabilities(app)
    assert served >= {("Patient", "search-type"), ("Patient", "$summary"), ("CodeSystem", "$lookup"),
                      ("ConceptMap", "$translate"), ("ValueSet", "$expand")}
    assert declared_capabilities(statement) == served
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert {p["name"] for p in patient["searchParam"]} == set(SEARCH_PARAMETERS)


def test_capability_statement_security_matches_the_smart_configuration(countries):
    session = plain(countries)
    statement = session.get(countries.public("DE") + "/fhir/metadata", timeout=10).json()
    smart = session.get(countries.public("DE") + "/.well-known/smart-configuration", timeout=10).json()
    security = statement["rest"][0]["security"]
    oauth_uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert oauth_uris["token"] == smart["token_endpoint"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    assert statement["fhirVersion"] == "4.0.1" and "application/fhir+json" in statement["format"]


def test_openapi_describes_exactly_the_routes_of_the_partner_api(countries, app):
    spec = plain(countries).get(countries.public("DE") + "/openapi.json", timeout=10).json()
    described = {path: {m.upper() for m in ops} for path, ops in spec["paths"].items()}
    routes = api_routes(app)
    # the route's variable is named after the code (patient_id), the description's after FHIR (id)
    routes = {path.replace("{patient_id}", "{id}"): methods for path, methods in routes.items()}
    assert described == routes


@pytest.mark.parametrize("path", ["/fhir/metadata", "/fhir/Patient", "/fhir/Patient/fr-123/$summary",
                                  "/fhir/Patient/$summary", "/fhir/CodeSystem/$lookup", "/fhir/ConceptMap/$translate",
                                  "/fhir/ValueSet/$expand", "/oauth/token", "/openapi.json"])
def test_options_and_405_name_the_described_methods(countries, path):
    spec = plain(countries).get(countries.public("DE") + "/openapi.json", timeout=10).json()
    template = "/fhir/Patient/{id}/$summary" if path.endswith("fr-123/$summary") else path
    described = {m.upper() for m in spec["paths"][template]}
    session = plain(countries)
    options = session.options(countries.public("DE") + path, timeout=10)
    assert options.status_code < 300, options.text
    allowed = {m.strip() for m in options.headers["Allow"].split(",")}
    assert allowed - IGNORED_METHODS == described
    other = next(m for m in ("DELETE", "PUT", "PATCH") if m not in described)
    refused = session.request(other, countries.public("DE") + path, timeout=10)
    assert refused.status_code == 405, refused.text
    if path.startswith("/fhir/"):
        assert {m.strip() for m in refused.headers["Allow"].split(",")} - IGNORED_METHODS == described


def test_options_on_an_unknown_fhir_path_is_404(countries):
    resp = plain(countries).options(countries.public("DE") + "/fhir/Observation", timeout=10)
    assert resp.status_code == 404
    assert resp.json()["resourceType"] == "OperationOutcome"
