from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import terminology
from terminology.tools import build_data, check_digits, import_mvc

PACKAGE = Path(terminology.__file__).parent
DATA = PACKAGE / "data"


def test_no_flask_import_in_the_package():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"flask", "gateway", "werkzeug"}, f"{path}: imports {name}"
    code = "import sys, terminology, terminology.catalogue; terminology.load(); assert 'flask' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)


def test_compiled_data_is_up_to_date():
    stale = build_data.stale_files()
    assert not stale, f"run `python -m terminology.tools.build_data`; stale: {stale}"


def test_every_resource_records_its_provenance():
    for path in DATA.rglob("*.json"):
        res = json.loads(path.read_bytes())
        assert res.get("publisher"), path
        assert res.get("description"), path
        assert res.get("meta", {}).get("source"), path
    text = (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    for needle in ("25202ea6a0dedb590840c93b8d595b66cdab962f", "SNOMED", "LOINC", "ATC", "EDQM", "synthetic"):
        assert needle in text


def test_no_runtime_reference_to_the_shared_folder():
    for path in PACKAGE.rglob("*.py"):
        if {"tools", "sources"} & set(path.relative_to(PACKAGE).parts):
            continue  # import scripts take the folder as an argument; sources/ is curation material
        assert "/work/shared" not in path.read_text(encoding="utf-8") and "../shared" not in path.read_text(
            encoding="utf-8"), path


def test_import_mvc_is_rerunnable(tmp_path):
    src, out = tmp_path / "mvc", tmp_path / "out"
    src.mkdir()
    vs = {"name": "eHDSITest", "url": "http://terminology.ehdsi.eu/ValueSet/eHDSITest", "version": "8.1.0",
          "identifier": "urn:oid:1.2.3", "title": "Test", "description": "d",
          "concepts": [{"system": "http://loinc.org", "code": "1-8", "display": "One"},
                       {"system": "http://snomed.info/sct", "code": "22", "display": "Two"}]}
    (src / "eHDSITest.json").write_text(json.dumps(vs), encoding="utf-8")
    assert import_mvc.convert(src, out) == (1, 2, 2)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert import_mvc.convert(src, out) == (1, 2, 2)
    assert first == {p.name: p.read_bytes() for p in out.iterdir()}
    t = terminology.Terminology(out)
    assert t.lookup("http://loinc.org", "1-8").display == "One"
    expanded = t.expand("http://terminology.ehdsi.eu/ValueSet/eHDSITest")
    assert [c["code"] for c in expanded["expansion"]["contains"]] == ["1-8", "22"]


def test_check_digits():
    assert check_digits.pzn_ok("01234562") and not check_digits.pzn_ok("01234563")
    assert check_digits.ean13_ok("4006381333931") and not check_digits.ean13_ok("4006381333932")
    # AIC / Italian pharmacode (Code 32) check digit, on AIC codes published by HL7 Italia's examples
    for real in ("031981069", "033736075", "027860042", "020609083"):
        assert check_digits.aic_ok(real), real
    assert not check_digits.aic_ok("031981068") and not check_digits.aic_ok("03198106") and not check_digits.aic_ok("0319810A9")


def test_a_designation_row_must_name_a_shipped_code_with_its_display(tmp_path, monkeypatch):
    folder = tmp_path / "designations"
    folder.mkdir()
    monkeypatch.setattr(build_data, "SOURCES_DIR", tmp_path)
    header = ",".join(build_data.DESIGNATION_HEADER)
    known = {"http://snomed.info/sct": {"764146007": "Penicillin"}}

    def build(row: str):
        (folder / "x.csv").write_text(f"{header}\n{row}\n", encoding="utf-8")
        return build_data.build_supplements(known)

    out = build("http://snomed.info/sct,764146007,Penicillin,Pénicilline,Penicillin,,,,,")
    (concept,) = out["supplements/CodeSystem-supplement-snomed-ct.json"]["concept"]
    assert concept["display"] == "Penicillin" and {"language": "fr", "value": "Pénicilline"} in concept["designation"]
    with pytest.raises(build_data.SourceError, match="not a code the terminology ships"):
        build("http://snomed.info/sct,999999999,Nothing,Rien,,,,,,")
    with pytest.raises(build_data.SourceError, match="differs from the code system's display"):
        build("http://snomed.info/sct,764146007,Penicillin (substance),Pénicilline,,,,,,")
