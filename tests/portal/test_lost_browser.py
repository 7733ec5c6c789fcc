"""A browser on an unknown address of the public listener gets a portal page; API clients keep getting
OperationOutcomes, whatever they ask for."""

from __future__ import annotations

import requests

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _get(countries, path: str, headers: dict[str, str]) -> requests.Response:
    cfg = countries.configs["DE"]
    with requests.Session() as s:
        s.trust_env = False
        return s.get(cfg.public.url + path, headers=headers, verify=str(cfg.certs.ca_cert), timeout=10)


def test_unknown_address_in_a_browser_is_a_portal_page(countries):
    resp = _get(countries, "/no/such/page?<script>alert(1)</script>", HTML)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    assert "<html" in resp.text and 'lang="' in resp.text
    assert "<script>alert" not in resp.text
    assert "Traceback" not in resp.text


def test_api_paths_and_api_clients_keep_operation_outcomes(countries):
    for path, headers in [("/fhir/NoSuchResource", HTML), ("/oauth/nothing", HTML), ("/no/such/page", {}),
                          ("/no/such/page", {"Accept": "application/fhir+json"})]:
        resp = _get(countries, path, headers)
        assert resp.status_code == 404, path
        assert resp.headers["Content-Type"].startswith("application/fhir+json"), (path, headers)
        assert resp.json()["resourceType"] == "OperationOutcome"
