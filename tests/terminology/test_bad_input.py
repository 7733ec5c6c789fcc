from __future__ import annotations

import json

import pytest

import terminology

GOOD_MAP = {
    "resourceType": "ConceptMap",
    "url": "http://example.org/ConceptMap/x",
    "group": [{"source": "urn:x:a", "target": "urn:x:b",
               "element": [{"code": "1", "target": [{"code": "2", "equivalence": "equivalent"}]}]}],
}


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def _load_error(tmp_path) -> terminology.TerminologyDataError:
    with pytest.raises(terminology.TerminologyDataError) as info:
        terminology.Terminology(tmp_path)
    return info.value


def test_good_map_loads(tmp_path):
    _write(tmp_path, "ConceptMap-x.json", GOOD_MAP)
    t = terminology.Terminology(tmp_path)
    assert [x.code for x in t.map_targets("urn:x:a", "1")] == ["2"]


def test_conceptmap_with_invalid_equivalence_names_file_and_element(tmp_path):
    bad = json.loads(json.dumps(GOOD_MAP))
    bad["group"][0]["element"][0]["target"][0]["equivalence"] = "same-ish"
    path = _write(tmp_path, "ConceptMap-bad.json", bad)
    err = _load_error(tmp_path)
    assert err.path == str(path)
    assert err.element == "group[0].element[0].target[0].equivalence"
    assert "ConceptMap-bad.json" in str(err) and "same-ish" in str(err)


def test_conceptmap_without_target_code(tmp_path):
    bad = json.loads(json.dumps(GOOD_MAP))
    del bad["group"][0]["element"][0]["target"][0]["code"]
    _write(tmp_path, "ConceptMap-bad.json", bad)
    assert _load_error(tmp_path).element == "group[0].element[0].target[0].code"


def test_conceptmap_without_group_source(tmp_path):
    bad = json.loads(json.dumps(GOOD_MAP))
    del bad["group"][0]["source"]
    _write(tmp_path, "sub/ConceptMap-bad.json", bad) if (tmp_path / "sub").mkdir() is None else None
    err = _load_error(tmp_path)
    assert err.element == "group[0].source" and err.path.endswith("sub/ConceptMap-bad.json")


def test_conceptmap_without_groups(tmp_path):
    _write(tmp_path, "ConceptMap-empty.json", {"resourceType": "ConceptMap", "url": "http://x", "group": []})
    assert _load_error(tmp_path).element == "group"


def test_invalid_json(tmp_path):
    _write(tmp_path, "broken.json", '{"resourceType": "CodeSystem", ')
    err = _load_error(tmp_path)
    assert err.element == "(file)" and "broken.json" in str(err)


def test_unexpected_resource_type(tmp_path):
    _write(tmp_path, "patient.json", {"resourceType": "Patient"})
    assert _load_error(tmp_path).element == "resourceType"


def test_codesystem_concept_without_code(tmp_path):
    _write(tmp_path, "cs.json", {"resourceType": "CodeSystem", "url": "urn:x", "content": "fragment",
                                  "concept": [{"code": "a"}, {"display": "no code"}]})
    assert _load_error(tmp_path).element == "concept[1].code"


def test_codesystem_without_url(tmp_path):
    _write(tmp_path, "cs.json", {"resourceType": "CodeSystem", "content": "fragment", "concept": []})
    assert _load_error(tmp_path).element == "url"


def test_supplement_with_bad_designation(tmp_path):
    _write(tmp_path, "sup.json", {"resourceType": "CodeSystem", "url": "urn:s", "content": "supplement",
                                   "supplements": "urn:x", "concept": [{"code": "a", "designation": [{"value": "x"}]}]})
    assert _load_error(tmp_path).element == "concept[0].designation[0]"


def test_valueset_without_compose(tmp_path):
    _write(tmp_path, "vs.json", {"resourceType": "ValueSet", "url": "http://x/vs"})
    assert _load_error(tmp_path).element == "compose"


def test_missing_data_directory(tmp_path):
    with pytest.raises(terminology.TerminologyDataError):
        terminology.Terminology(tmp_path / "nowhere")


def test_missing_display_is_filled_from_the_code_system(ips_bundle):
    bundle, _ = terminology.translate(ips_bundle, "fr")
    condition = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition")
    status = condition["clinicalStatus"]["coding"][0]
    assert status["display"] == "Active"  # the IPS example gives no display here


def test_unknown_country_for_catalogue():
    with pytest.raises(terminology.UnknownCountryError):
        terminology.catalogue.entries("XX", "problem")
    with pytest.raises(ValueError):
        terminology.catalogue.entries("FR", "nonsense")
