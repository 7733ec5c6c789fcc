"""``ncpeh terminology import | sources | lookup`` on real distribution files built in tmp_path, and the
imported sources in the gateway: loaded by every process at start, used by the FHIR operations."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.services.terminology import instance_terminology
from tests.terminology.importfiles import loinc_csv, npm_package, rf2_files

ROOT = Path(__file__).resolve().parent.parent


def ncpeh(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NCPEH_", "TERMINOLOGY_"))}
    return subprocess.run([sys.executable, "-m", "gateway.cli", "terminology", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, cwd=ROOT, timeout=120)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ncpeh: error: "), result.stderr
    return lines[0]


def test_import_sources_lookup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    inputs = [str(npm_package(tmp_path / "in")), str(tmp_path / "in" / "rf2"), str(loinc_csv(tmp_path / "in"))]
    rf2_files(tmp_path / "in" / "rf2")
    first = ncpeh("import", "--data-dir", str(data), *inputs)
    assert first.returncode == 0, first.stderr
    assert "snomed-de-ch1000195-20251201: imported" in first.stdout
    assert sorted(p.name for p in (data / "terminology").iterdir()) == [
        "loinc-nl-nl-20", "npm-example.demo.terminology-1.0.0", "snomed-de-ch1000195-20251201"]
    again = ncpeh("import", "--data-dir", str(data), *inputs)
    assert again.returncode == 0 and again.stdout.count("already imported (same sha256), nothing changed") == 3

    listed = ncpeh("sources", "--data-dir", str(data), "--format", "json")
    sources = {m["id"]: m for m in json.loads(listed.stdout)}
    assert [m["kind"] for m in json.loads(listed.stdout)] == ["rf2", "loinc", "npm"]  # precedence order
    assert sources["snomed-de-ch1000195-20251201"]["counts"]["systems"]["http://snomed.info/sct"]["designations_de"] == 3
    table = ncpeh("sources", "--data-dir", str(data)).stdout
    assert "http://loinc.org  3 concepts  nl 3" in table

    found = ncpeh("lookup", "urn:oid:2.16.840.1.113883.6.96", "10013000", "--language", "de", "--data-dir", str(data))
    assert found.returncode == 0, found.stderr
    assert "display (de): Aussenmeniskus (Test) — source: snomed-de-ch1000195-20251201 (SNOMED CT de" in found.stdout
    curated = ncpeh("lookup", "snomed", "38341003", "--language", "de", "--data-dir", str(data))
    assert "display (de): Arterielle Hypertonie — shipped" in curated.stdout


def test_bad_input_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    good = npm_package(tmp_path / "in")
    truncated = tmp_path / "in" / "truncated.tgz"
    truncated.write_bytes(good.read_bytes()[:400])
    error = one_line_error(ncpeh("import", "--data-dir", str(data), str(good), str(truncated)))
    assert "truncated.tgz: corrupt or truncated package" in error
    assert not (data / "terminology").exists() or not any((data / "terminology").iterdir())
    bad_csv = loinc_csv(tmp_path / "in", header="LOINC_NUM,COMPONENT,PROPERTY,TIME_ASPCT,SYSTEM,SCALE_TYP,"
                                                "METHOD_TYP,CLASS,SHORTNAME,NAME,X")
    assert "nlNL20LinguisticVariant.csv:1: missing column(s) LONG_COMMON_NAME" in one_line_error(
        ncpeh("import", "--data-dir", str(data), str(bad_csv)))
    assert "give --country" in one_line_error(ncpeh("import", str(good)))
    unknown = one_line_error(ncpeh("lookup", "http://example.org/unknown-system", "1"))
    assert "unknown code system 'http://example.org/unknown-system'" in unknown
    assert "has no code '0000-0'" in one_line_error(ncpeh("lookup", "loinc", "0000-0"))


def test_imported_sources_serve_the_fhir_operations_after_a_restart(countries, tmp_path: Path) -> None:
    """An import into DE's data directory, then an application built as at start: $lookup, $expand and
    $translate answer from it, and through an alias URI."""
    cfg = countries.configs["DE"]
    folder = cfg.data_dir / "terminology"
    assert not folder.exists()
    rf2_files(tmp_path / "rf2")
    imported = ncpeh("import", "--data-dir", str(cfg.data_dir), str(npm_package(tmp_path)), str(tmp_path / "rf2"))
    assert imported.returncode == 0, imported.stderr
    try:
        app = create_app(cfg, "public")  # what every process does at start
        assert app.extensions["ncpeh"].terminology is instance_terminology(cfg.data_dir)
        session = countries.partner_session("DE", clinician=None)
        client = app.test_client()
        headers = {"Authorization": session.headers["Authorization"]}
        base = cfg.public.url
        resp = client.get("/fhir/CodeSystem/$lookup", base_url=base, headers=headers, query_string={
            "system": "urn:oid:2.16.840.1.113883.6.96", "code": "10013000", "displayLanguage": "de"})
        assert resp.status_code == 200, resp.text
        params = resp.get_json()["parameter"]
        assert {"name": "display", "valueString": "Aussenmeniskus (Test)"} in params
        assert {"name": "name", "valueString": "http://snomed.info/sct"} in params
        expand = client.get("/fhir/ValueSet/$expand", base_url=base, headers=headers, query_string={
            "url": "http://example.org/fhir/ValueSet/demo-colours", "displayLanguage": "de"})
        assert [c["display"] for c in expand.get_json()["expansion"]["contains"]][0] == "Rot (Test)"
        translate = client.get("/fhir/ConceptMap/$translate", base_url=base, headers=headers, query_string={
            "system": "http://example.org/old/colours", "code": "red"})
        assert translate.get_json()["parameter"][0] == {"name": "result", "valueBoolean": True}
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("system", ["urn:oid:2.16.840.1.113883.6.96", "http://snomed.info/sct"])
def test_lookup_through_an_alias_on_the_running_server(countries, system: str) -> None:
    session = countries.partner_session("DE", clinician=None)
    resp = session.get(countries.public("DE") + "/fhir/CodeSystem/$lookup", params={
        "system": system, "code": "38341003", "displayLanguage": "de"}, timeout=10)
    assert resp.status_code == 200, resp.text
    assert {"name": "display", "valueString": "Arterielle Hypertonie"} in resp.json()["parameter"]
