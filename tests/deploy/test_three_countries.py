"""Three countries as local processes (the docker-compose topology without a container engine):
a summary crosses the border between each ordered pair, and each country seeds its own patients."""

from __future__ import annotations

import copy
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from gateway import storage
from gateway.cli import load_country
from gateway.records.identifiers import IDENTIFIER_SCHEMES
from gateway.services.population import seed_population, store_documents
from tests.conftest import Running, load_fixture, make_topology, started
from tests.foundation.test_demo import demo_running

CODES = ["FR", "DE", "IT"]

#: One patient per country, in that country's identifier system and language.
PEOPLE = {
    "FR": {"identifier": "284057505612387", "family": "DUPONT", "given": ["Marie", "Louise"],
           "birthdate": "1984-05-12", "gender": "female", "language": "fr-FR"},
    "DE": {"identifier": "A123456780", "family": "Müller", "given": ["Hans"], "birthdate": "1975-03-02",
           "gender": "male", "language": "de-DE", "title": "Patientenkurzakte",
           "sections": ["Allergien und Unverträglichkeiten", "Medikation", "Aktive Probleme"],
           "texts": ["Penicillinallergie", "Metformin 1000 mg, zweimal täglich", "Diabetes mellitus Typ 2"]},
    "IT": {"identifier": "RSSMRA85T10A562S", "family": "Rossi", "given": ["Mario"], "birthdate": "1985-12-10",
           "gender": "male", "language": "it-IT", "title": "Profilo sanitario sintetico",
           "sections": ["Allergie e intolleranze", "Terapie", "Problemi attivi"],
           "texts": ["Allergia alla penicillina", "Metformina 1000 mg, due volte al giorno",
                     "Diabete mellito di tipo 2"]},
}
DOCUMENT_IDS = {"FR": None, "DE": "urn:uuid:4f6c2b1e-8d1a-4c55-9d0e-2a7de0000001",
                "IT": "urn:uuid:4f6c2b1e-8d1a-4c55-9d0e-2a7de0000002"}


def national_document(code: str, system: str) -> dict:
    """The FR fixture's clinical content, as country ``code``'s record store would hold it."""
    doc = load_fixture("ips-fr-dupont.json")
    if code == "FR":
        return doc
    person = PEOPLE[code]
    doc = copy.deepcopy(doc)
    doc["id"] = f"ips-{code.lower()}-fixture-1"
    doc["language"] = person["language"]
    doc["identifier"]["value"] = DOCUMENT_IDS[code]
    for entry in doc["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Composition":
            resource["language"] = person["language"]
            resource["title"] = person["title"]
            resource["text"]["div"] = f'<div xmlns="http://www.w3.org/1999/xhtml">{person["title"]}</div>'
            for section, title, text in zip(resource["section"], person["sections"], person["texts"], strict=True):
                section["title"] = title
                section["text"]["div"] = f'<div xmlns="http://www.w3.org/1999/xhtml">{text}</div>'
        elif resource["resourceType"] == "Patient":
            resource["identifier"] = [{"system": system, "value": person["identifier"]}]
            resource["name"] = [{"use": "official", "family": person["family"], "given": person["given"]}]
            resource["gender"] = person["gender"]
            resource["birthDate"] = person["birthdate"]
            resource.pop("extension", None)
    return doc


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    topo = make_topology(tmp_path_factory.mktemp("three-countries"), CODES)
    topo.prepare(patients=0)
    for code, cfg in topo.configs.items():
        store = storage.open_store(cfg.database_path)
        try:
            store_documents(store, cfg, [national_document(code, cfg.identifier.system)])
        finally:
            store.close()
    with started(topo) as running:
        yield running


def test_every_listener_is_healthy_and_trusts_the_three(three):
    for code, cfg in three.configs.items():
        body = requests.get(cfg.public.url + "/_status", verify=three.ca(code), timeout=10).json()
        assert body["status"] in ("ok", "warning") and body["country"] == code
        assert {name for name, check in body["checks"].items() if check["status"] != "ok"} <= {"audit_anchor", "totp_key"}, body
        assert body["checks"]["trust_list"]["countries"] == sorted(CODES)


@pytest.mark.parametrize("asking, patients_country", list(itertools.permutations(CODES, 2)))
def test_summary_crosses_the_border_between_each_ordered_pair(three, asking, patients_country):
    """Partner software in ``asking`` retrieves the summary of a patient of ``patients_country``."""
    person = PEOPLE[patients_country]
    system = three.configs[patients_country].identifier.system
    session = three.partner_session(asking)
    base = three.public(asking) + "/fhir"
    found = session.get(f"{base}/Patient", params={
        "country": patients_country, "identifier": f"{system}|{person['identifier']}", "family": person["family"],
        "given": person["given"][0], "birthdate": person["birthdate"], "gender": person["gender"]}, timeout=15)
    assert found.status_code == 200, found.text
    bundle = found.json()
    assert bundle["total"] == 1, bundle
    patient = bundle["entry"][0]["resource"]
    assert patient["id"].startswith(f"{patients_country.lower()}-")
    assert patient["identifier"][0] == {"system": system, "value": person["identifier"]}

    summary = session.get(f"{base}/Patient/{patient['id']}/$summary", timeout=15)
    assert summary.status_code == 200, summary.text
    doc = summary.json()
    assert doc["resourceType"] == "Bundle" and doc["type"] == "document"
    original = national_document(patients_country, system)
    assert doc["identifier"] == original["identifier"]
    assert doc["entry"][0]["resource"]["resourceType"] == "Composition"
    sent = next(e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == "Patient")
    assert sent["identifier"][0]["value"] == person["identifier"]


def test_a_country_search_mask_is_its_own(three):
    """Italy's mask (no gender) and Germany's (identifier + birth date) are applied by each of them."""
    session = three.partner_session("FR")
    person = PEOPLE["IT"]
    resp = session.get(three.public("FR") + "/fhir/Patient", params={
        "country": "IT", "identifier": person["identifier"], "family": person["family"],
        "birthdate": person["birthdate"]}, timeout=15)
    assert resp.status_code == 400
    assert "given" in resp.json()["issue"][0]["diagnostics"]
    de = PEOPLE["DE"]
    resp = session.get(three.public("FR") + "/fhir/Patient", params={
        "country": "DE", "identifier": de["identifier"], "birthdate": de["birthdate"]}, timeout=15)
    assert resp.status_code == 200 and resp.json()["total"] == 1


@pytest.mark.parametrize("code", CODES)
def test_each_country_seeds_its_own_patients(tmp_path, code, monkeypatch):
    """Synthetic patients in the country's own identifier system and language."""
    for var in [v for v in os.environ if v.startswith("NCPEH_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("NCPEH_HOME", str(tmp_path))
    cfg = load_country(code)
    store = storage.open_store(cfg.database_path, check=True)
    try:
        try:
            seed_population(store, cfg, 3, seed=7, processes=1)
        except ValueError as exc:
            if "no synthetic population" in str(exc):
                pytest.skip(f"the synthetic generator has no population for {code} yet: {exc}")
            raise
        assert store.records.count_patients() == 3
        scheme = IDENTIFIER_SCHEMES[cfg.identifier.scheme]
        rows = store.db.execute("SELECT p.identifier_system, p.identifier_value, s.language FROM patients p "
                                "JOIN summaries s ON s.patient_id = p.id").fetchall()
    finally:
        store.close()
    for system, value, language in rows:
        assert system == cfg.identifier.system
        assert scheme.validate(value) == value
        assert (language or "").split("-")[0] == cfg.default_language


def test_demo_command_starts_three_countries(tmp_path):
    """`ncpeh demo --countries FR,DE,IT`: the same topology from the command line, stopped by Ctrl-C."""
    with demo_running(tmp_path, ["FR", "DE", "IT"], patients=2) as (base, text):
        assert "All listeners healthy" in text, text
        assert "Italia (IT)" in text and f"https://127.0.0.1:{base + 2}/" in text
        for code in ("FR", "DE", "IT"):
            assert f"{code}: seeded 2 synthetic patients" in text
        ca = str(tmp_path / "certs" / "ca" / "ca.crt")
        status = requests.get(f"https://127.0.0.1:{base + 2}/_status", verify=ca, timeout=5).json()
        assert status["country"] == "IT" and status["checks"]["trust_list"]["countries"] == sorted(CODES)


SPAIN = """\
# Spain: an illustrative fourth country, added by configuration only.
code = "ES"
name = "España"
languages = ["es", "en"]

[identifier]
scheme = "generic"
system = "urn:oid:2.16.724.4.40"
label = "CIP-SNS"
search_mask = ["identifier", "family", "birthdate"]

[public]
host = "127.0.0.1"
port = 8446

[ncp]
host = "127.0.0.1"
port = 9446
"""


def test_adding_a_country_is_configuration_not_code(tmp_path):
    """README "Adding a country": a country file in NCPEH_CONFIG_DIR, certificates and trust list
    (done by the topology / `ncpeh demo`), patients imported with `ncpeh import`, and it answers."""
    folder = tmp_path / "countries"
    folder.mkdir()
    (folder / "es.toml").write_text(SPAIN, encoding="utf-8")
    topo = make_topology(tmp_path / "home", ["FR", "ES"], config_dir=folder)
    done = topo.prepare(patients=2)
    assert any(line.startswith("ES: not seeded (") and "ncpeh import -c ES" in line for line in done), done
    doc = national_document("IT", "urn:oid:2.16.724.4.40")
    doc["language"] = "es-ES"
    patient = next(e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["identifier"][0]["value"] = "BBBB123456789012"
    patient["name"] = [{"use": "official", "family": "García", "given": ["Lucía"]}]
    document = tmp_path / "es-patient.json"
    document.write_text(json.dumps(doc), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCPEH_")}
    env.update({"NCPEH_HOME": str(tmp_path / "home"), "NCPEH_CONFIG_DIR": str(folder)})
    imported = subprocess.run([sys.executable, "-m", "gateway.cli", "import", "-c", "ES", str(document)],
                              capture_output=True, text=True, env=env, timeout=60)
    assert imported.returncode == 0, imported.stderr
    assert "imported 1" in imported.stdout
    topo.start()
    try:
        running = Running(topo)
        session = running.partner_session("FR")
        found = session.get(running.public("FR") + "/fhir/Patient", params={
            "country": "ES", "identifier": "urn:oid:2.16.724.4.40|BBBB123456789012", "family": "Garcia",
            "birthdate": PEOPLE["IT"]["birthdate"]}, timeout=15)
        assert found.status_code == 200 and found.json()["total"] == 1, found.text
        patient_id = found.json()["entry"][0]["resource"]["id"]
        summary = session.get(running.public("FR") + f"/fhir/Patient/{patient_id}/$summary", timeout=15)
        assert summary.status_code == 200, summary.text
        assert summary.json()["identifier"] == doc["identifier"]
    finally:
        topo.stop()
