"""``terminology.importers``: distributions converted into per-source folders that ``load`` reads."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import terminology
from terminology.importers.run import import_paths
from terminology.importers.store import ImportRefused, manifests, read_content
from terminology.systems import CIM10_FR, ICD10, LOINC, SNOMED

from .conftest import translation
from .importfiles import DEMO_CS, loinc_csv, npm_package, rf2_files


def _load(root: Path) -> terminology.Terminology:
    return terminology.Terminology(extra_dirs=[root])


def test_npm_package_codesystems_supplement_valuesets_maps_and_namingsystems(tmp_path: Path) -> None:
    root = tmp_path / "terminology"
    [result] = import_paths(root, [npm_package(tmp_path)])
    assert (result.id, result.status) == ("npm-example.demo.terminology-1.0.0", "imported")
    manifest = result.manifest
    assert manifest["kind"] == "npm" and manifest["version"] == "1.0.0" and manifest["licence"] == "CC0-1.0"
    assert manifest["counts"]["systems"][DEMO_CS] == {"concepts": 3, "designations_de": 1, "designations_fr": 1}
    assert manifest["counts"]["valuesets_partial"] == 1
    term = _load(root)
    assert term.display(DEMO_CS, "red", "de") == ("Rot (Test)", "de", False)
    assert term.lookup(DEMO_CS, "navy").display == "Navy blue"  # nested concept
    assert not term.knows("http://ignored", "x")  # package/example/ is not read
    # the supplement of SNOMED CT names it by its OID; the shipped, curated Dutch designation is kept
    assert term.display(SNOMED, "38341003", "nl")[0] == "Hypertensie"
    assert term.display(SNOMED, "999000001", "nl")[0] == "Testconcept (test)"
    assert [c["code"] for c in term.expand("http://example.org/fhir/ValueSet/demo-colours")["expansion"]["contains"]] \
        == ["red", "blue", "navy"]
    assert [c["code"] for c in term.expand("http://example.org/fhir/ValueSet/filtered")["expansion"]["contains"]] \
        == ["red"]
    [target] = term.map_targets(DEMO_CS, "red")
    assert (target.system, target.code, target.equivalence) == (SNOMED, "386713009", "equivalent")
    assert term.map_targets(DEMO_CS, "blue") == []
    # NamingSystem and CodeSystem.identifier aliases
    for alias in ("urn:oid:1.2.3.4.5.7", "http://example.org/old/colours", "urn:oid:1.2.3.4.5.6"):
        assert term.canonical(alias) == DEMO_CS
        assert term.display(alias, "red", "fr")[0] == "Rouge (test)"
    assert term.provenance(DEMO_CS, "red", "de")["id"] == result.id
    assert term.provenance(DEMO_CS, "red")["id"] == result.id  # the original display
    assert term.provenance(SNOMED, "38341003", "de") is None  # curated
    assert term.provenance(SNOMED, "38341003") is None


def test_rf2_with_language_refset_takes_the_preferred_synonym(tmp_path: Path) -> None:
    root = tmp_path / "terminology"
    [result] = import_paths(root, rf2_files(tmp_path / "rf2"))
    assert result.id == "snomed-de-ch1000195-20251201" and result.manifest["kind"] == "rf2"
    assert result.manifest["counts"]["systems"][SNOMED] == {"concepts": 3, "designations_de": 3}
    term = _load(root)
    assert term.display(SNOMED, "10013000", "de") == ("Aussenmeniskus (Test)", "de", False)
    assert term.display(SNOMED, "38341003", "de")[0] == "Arterielle Hypertonie"  # curated never replaced
    assert term.lookup(SNOMED, "999000002", "de").display == "Nur-national (Test)"
    bundle = {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Condition", "code": {
        "coding": [{"system": SNOMED, "code": "10013000", "display": "Lateral meniscus structure"}]}}}]}
    terminology.translate(bundle, "de", terminology=term)
    coding = bundle["entry"][0]["resource"]["code"]["coding"][0]
    assert translation(coding, "display") == {"lang": "de", "content": "Aussenmeniskus (Test)", "fallback": None}


def test_rf2_release_folder_reads_the_snapshot_only(tmp_path: Path) -> None:
    folder = tmp_path / "SnomedCT_Release" / "Snapshot"
    desc, _refset = rf2_files(folder / "Terminology")
    full = tmp_path / "SnomedCT_Release" / "Full" / "Terminology"
    full.mkdir(parents=True)
    (full / desc.name.replace("Snapshot", "Full")).write_text("not read", encoding="utf-8")
    [result] = import_paths(tmp_path / "terminology", [tmp_path / "SnomedCT_Release"])
    assert result.manifest["inputs"] == [desc.name, _refset.name]


def test_rf2_without_refset_takes_the_first_active_synonym(tmp_path: Path) -> None:
    root = tmp_path / "terminology"
    [result] = import_paths(root, rf2_files(tmp_path / "rf2", with_refset=False))
    stored = read_content(root / result.id)["codesystems"][SNOMED]["designations"]
    assert stored == {"38341003": {"de": "Bluthochdruck (Test)"}, "10013000": {"de": "Aussenmeniskus (Test)"},
                      "999000002": {"de": "Nur-national (Test)"}}  # no FSN, no inactive row
    assert _load(root).display(SNOMED, "38341003", "de")[0] == "Arterielle Hypertonie"  # curated wins


def test_loinc_linguistic_variant(tmp_path: Path) -> None:
    root = tmp_path / "terminology"
    [result] = import_paths(root, [loinc_csv(tmp_path)])
    assert result.id == "loinc-nl-nl-20" and result.manifest["counts"]["systems"][LOINC]["designations_nl"] == 3
    term = _load(root)
    assert term.display(LOINC, "8480-6", "nl")[0] == "Systolische bloeddruk"  # curated
    assert term.display(LOINC, "99999-9", "nl")[0] == "Testcode (test)"
    assert term.display(LOINC, "2340-8", "nl")[0] == "Glucose (test):MCnc:Pt:Bld:Qn"  # no long common name
    other = loinc_csv(tmp_path / "x", name="variant.csv")
    with pytest.raises(ImportRefused, match="give --language"):
        import_paths(root, [other])
    [res] = import_paths(tmp_path / "t2", [other], language="pl")
    assert res.manifest["counts"]["systems"][LOINC]["designations_pl"] == 3


def test_importing_the_same_source_twice_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "terminology"
    package = npm_package(tmp_path)
    first = import_paths(root, [package])[0]
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    again = import_paths(root, [package])[0]
    assert again.status == "unchanged" and again.id == first.id
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before
    # a new release of the same source replaces it, atomically
    newer = npm_package(tmp_path / "v2", extra={"package/CodeSystem-more.json": {
        "resourceType": "CodeSystem", "url": "http://example.org/more", "content": "complete",
        "concept": [{"code": "a", "display": "A"}]}})
    assert import_paths(root, [newer])[0].status == "replaced"
    assert [m["id"] for m in manifests(root)] == [first.id]
    assert sorted(p.name for p in root.iterdir()) == [first.id]


def test_precedence_national_translations_before_npm_packages(tmp_path: Path) -> None:
    root = tmp_path / "terminology"
    npm = npm_package(tmp_path, extra={"package/CodeSystem-snomed-de.json": {
        "resourceType": "CodeSystem", "url": "http://example.org/sct-de", "content": "supplement",
        "supplements": SNOMED, "concept": [{"code": "10013000", "designation": [{"language": "de", "value": "NPM (test)"}]}]}})
    import_paths(root, [npm, *rf2_files(tmp_path / "rf2")])
    term = _load(root)
    assert term.display(SNOMED, "10013000", "de")[0] == "Aussenmeniskus (Test)"
    assert term.provenance(SNOMED, "10013000", "de")["kind"] == "rf2"


# ------------------------------------------------------------------------------------------ bad input


def test_truncated_package_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    package = npm_package(tmp_path)
    truncated = tmp_path / "truncated.tgz"
    truncated.write_bytes(package.read_bytes()[: package.stat().st_size // 2])
    root = tmp_path / "terminology"
    with pytest.raises(ImportRefused, match=r"truncated.tgz: corrupt or truncated package"):
        import_paths(root, [npm_package(tmp_path / "ok"), truncated])
    assert not root.exists() or not any(root.iterdir())


@pytest.mark.parametrize("member, resource", [
    ("package/CodeSystem-nulls.json", {"resourceType": "CodeSystem", "url": "http://example.org/cs", "content": "complete",
                                       "concept": [{"code": "a", "designation": None}]}),
    ("package/ConceptMap-nulls.json", {"resourceType": "ConceptMap", "url": "http://example.org/cm",
                                       "group": [{"source": "http://a", "target": "http://b",
                                                  "element": [{"code": "x", "target": None}]}]}),
    ("package/ConceptMap-strings.json", {"resourceType": "ConceptMap", "url": "http://example.org/cm2", "group": ["x"]}),
])
def test_wrongly_typed_elements_are_refused_naming_the_member(tmp_path: Path, member: str, resource: dict) -> None:
    """Found in review: null or a string where an array or object is due gave a trace, not a refusal."""
    bad = npm_package(tmp_path, extra={member: resource})
    root = tmp_path / "terminology"
    with pytest.raises(ImportRefused, match=f"!{member}: malformed"):
        import_paths(root, [bad])
    assert not root.exists() or not any(root.iterdir())


def test_corrupt_json_in_a_package_names_the_member_and_line(tmp_path: Path) -> None:
    bad = npm_package(tmp_path, extra={"package/ValueSet-broken.json": b'{"resourceType": "ValueSet",\n  "url": }'})
    with pytest.raises(ImportRefused, match=r"!package/ValueSet-broken.json:2: not valid JSON"):
        import_paths(tmp_path / "t", [bad])
    plain = tmp_path / "not-a-package.tgz"
    plain.write_bytes(gzip.compress(b"just text"))
    with pytest.raises(ImportRefused, match="not-a-package.tgz: corrupt or truncated"):
        import_paths(tmp_path / "t", [plain])


def test_rf2_wrong_columns_or_encoding_names_the_line(tmp_path: Path) -> None:
    desc, _refset = rf2_files(tmp_path / "rf2")
    text = desc.read_bytes().decode("utf-8")
    desc.write_bytes(text.replace("\tterm\t", "\tTerm\t").encode())
    with pytest.raises(ImportRefused, match=rf"{desc.name}:1: unexpected columns"):
        import_paths(tmp_path / "t", [desc])
    lines = text.split("\r\n")
    lines[3] = lines[3].replace("\t900000000000448009", "")
    desc.write_bytes("\r\n".join(lines).encode())
    with pytest.raises(ImportRefused, match=rf"{desc.name}:4: 8 tab-separated fields, expected 9"):
        import_paths(tmp_path / "t", [desc])
    desc.write_bytes(text.encode("latin-1"))  # "Störung" of the FSN on line 2
    with pytest.raises(ImportRefused, match=rf"{desc.name}:2: not UTF-8 text \(byte 0xf6\)"):
        import_paths(tmp_path / "t", [desc])
    assert not (tmp_path / "t").exists()


def test_loinc_missing_column_is_refused_on_line_1(tmp_path: Path) -> None:
    bad = loinc_csv(tmp_path, header="LOINC_NUM,COMPONENT,PROPERTY,TIME_ASPCT,SYSTEM,SCALE_TYP,METHOD_TYP,CLASS,"
                                     "SHORTNAME,LONG_NAME,LinguisticVariantDisplayName")
    with pytest.raises(ImportRefused, match=r"nlNL20LinguisticVariant.csv:1: missing column\(s\) LONG_COMMON_NAME"):
        import_paths(tmp_path / "t", [bad])
    short = loinc_csv(tmp_path / "s")
    short.write_text(short.read_text(encoding="utf-8") + '"1-8","only","three"\n', encoding="utf-8")
    with pytest.raises(ImportRefused, match=r"nlNL20LinguisticVariant.csv:5: 3 fields, expected 11"):
        import_paths(tmp_path / "t", [short])


def test_unrecognised_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello", encoding="utf-8")
    with pytest.raises(ImportRefused, match="notes.txt: not a recognised terminology distribution"):
        import_paths(tmp_path / "t", [other])


def test_damaged_imported_content_fails_loading_naming_the_file(tmp_path: Path) -> None:
    root = tmp_path / "terminology"
    [result] = import_paths(root, [loinc_csv(tmp_path)])
    content = root / result.id / "content.json"
    content.write_bytes(content.read_bytes()[:20])
    with pytest.raises(terminology.TerminologyError, match=rf"{result.id}/content.json: unreadable imported content"):
        _load(root)


def test_imported_conceptmap_serves_transcoding_but_never_overrides_a_shipped_map(tmp_path: Path) -> None:
    shipped = [(t.system, t.code) for t in terminology.load().map_targets(CIM10_FR, "E11.9") if not t.attribute]
    cm = {"resourceType": "ConceptMap", "url": "http://example.org/fhir/ConceptMap/cim10-extra", "group": [{
        "source": CIM10_FR, "target": ICD10, "element": [
            {"code": "Z99.9", "target": [{"code": "Z99.9", "display": "Dependence on unspecified enabling machine "
                                                                        "and device", "equivalence": "equal"}]},
            {"code": "E11.9", "target": [{"code": "E14.9", "equivalence": "equal"}]}]}]}
    root = tmp_path / "terminology"
    import_paths(root, [npm_package(tmp_path, extra={"package/ConceptMap-cim10.json": cm})])
    term = _load(root)
    bundle = {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Condition", "code": {"coding": [
        {"system": CIM10_FR, "code": "Z99.9"}]}}}, {"resource": {"resourceType": "Condition", "code": {"coding": [
            {"system": CIM10_FR, "code": "E11.9"}]}}}]}
    _out, report = terminology.transcode(bundle, "FR", term)
    first, second = (e["resource"]["code"]["coding"] for e in bundle["entry"])
    assert [(c["system"], c["code"]) for c in first[1:]] == [(ICD10, "Z99.9")]
    assert [(c["system"], c["code"]) for c in second[1:]] == shipped
    assert not report.unmapped
