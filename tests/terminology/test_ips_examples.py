"""The concepts of the HL7 IPS example Bundle (fixtures/ips-bundle-minimal.json) are covered."""

from __future__ import annotations

import terminology
from terminology import systems as S

from .conftest import resources, translation, walk_codings

#: national drug codes of the Dutch example (G-Standaard): not part of the EU pivot, never expected
NOT_PIVOT = {"urn:oid:2.16.840.1.113883.2.4.4.1", "urn:oid:2.16.840.1.113883.2.4.4.7"}


def test_every_ips_example_concept_is_known(term, ips_bundle):
    for coding in walk_codings(ips_bundle):
        if coding["system"] in NOT_PIVOT:
            continue
        assert term.knows(coding["system"], coding["code"]), coding


def test_ips_example_translates_into_every_language(ips_bundle):
    import copy

    for lang in terminology.SUPPORTED_LANGUAGES:
        bundle, report = terminology.translate(copy.deepcopy(ips_bundle), lang)
        for coding in walk_codings(bundle):
            if coding["system"] in NOT_PIVOT:
                continue
            assert translation(coding, "display"), (lang, coding)
        data = report.to_dict()
        assert data[S.LOINC]["seen"] >= 5


def test_ips_example_sections_are_translated(ips_bundle):
    bundle, _ = terminology.translate(ips_bundle, "de")
    composition = resources(bundle, "Composition")[0]
    titles = {s["code"]["coding"][0]["code"]: translation(s, "title") for s in composition["section"]}
    assert all(t and t["lang"] == "de" and t["fallback"] is None for t in titles.values()), titles
    # the original title and the source translation already present are kept
    assert composition["section"][0]["title"] == "Active Problems"
    condition = resources(bundle, "Condition")[0]
    langs = [p["valueCode"] for e in condition["code"]["coding"][0]["_display"]["extension"]
             for p in e["extension"] if p["url"] == "lang"]
    assert langs[0] == "nl-NL" and len(langs) == 2
    # narrative language comes from the Bundle (en-US)
    ext = composition["section"][0]["text"]["extension"][0]
    assert ext == {"url": S.EXT_NARRATIVE_LANGUAGE, "valueCode": "en-US"}
