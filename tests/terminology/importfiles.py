"""Small real distribution files for the import tests, built in tmp_path in the formats as distributed.

All terms are made up for the tests (synthetic): no SNOMED CT translation or LOINC linguistic variant
content is reproduced here.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

from terminology.systems import SNOMED

DEMO_CS = "http://example.org/fhir/CodeSystem/demo-colours"


def npm_package(tmp_path: Path, name: str = "example.demo.terminology", version: str = "1.0.0",
                extra: dict[str, Any] | None = None) -> Path:
    """An NPM package .tgz: package/package.json, a CodeSystem with designations, a supplement of SNOMED CT,
    a ValueSet (one enumerated, one whole-system include), a ConceptMap and a NamingSystem."""
    resources: dict[str, Any] = {
        "package/package.json": {"name": name, "version": version, "license": "CC0-1.0", "title": "Demo terminology"},
        "package/CodeSystem-demo-colours.json": {
            "resourceType": "CodeSystem", "url": DEMO_CS, "title": "Demo colours", "content": "complete",
            "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.3.4.5.6"}],
            "concept": [
                {"code": "red", "display": "Red", "designation": [{"language": "de", "value": "Rot (Test)"},
                                                                  {"language": "fr-FR", "value": "Rouge (test)"}]},
                {"code": "blue", "display": "Blue", "concept": [{"code": "navy", "display": "Navy blue"}]},
            ]},
        "package/CodeSystem-snomed-supplement.json": {
            "resourceType": "CodeSystem", "url": "http://example.org/fhir/CodeSystem/sct-nl", "content": "supplement",
            "supplements": "urn:oid:2.16.840.1.113883.6.96",
            "concept": [{"code": "38341003", "designation": [{"language": "nl", "value": "NPM-hypertensie (test)"},
                                                             {"language": "de", "value": "NPM-Hypertonie (test)"}]},
                        {"code": "999000001", "designation": [{"language": "nl", "value": "Testconcept (test)"}]}]},
        "package/ValueSet-demo.json": {
            "resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/demo-colours", "status": "active",
            "compose": {"include": [{"system": DEMO_CS}]}},
        "package/ValueSet-filtered.json": {
            "resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/filtered",
            "compose": {"include": [{"system": DEMO_CS, "concept": [{"code": "red"}]},
                                    {"system": SNOMED, "filter": [{"property": "concept", "op": "is-a", "value": "1"}]}]}},
        "package/ConceptMap-demo.json": {
            "resourceType": "ConceptMap", "url": "http://example.org/fhir/ConceptMap/demo",
            "group": [{"source": DEMO_CS, "target": SNOMED, "element": [
                {"code": "red", "target": [{"code": "386713009", "display": "Red colour", "equivalence": "equivalent"}]},
                {"code": "blue", "target": [{"code": "x", "equivalence": "unmatched"}]}]}]},
        "package/NamingSystem-demo.json": {
            "resourceType": "NamingSystem", "kind": "codesystem", "name": "Demo",
            "uniqueId": [{"type": "oid", "value": "1.2.3.4.5.7", "preferred": True},
                         {"type": "uri", "value": DEMO_CS, "preferred": True},
                         {"type": "uri", "value": "http://example.org/old/colours", "preferred": False}]},
        "package/example/CodeSystem-ignored.json": {"resourceType": "CodeSystem", "url": "http://ignored",
                                                    "content": "complete", "concept": [{"code": "x"}]},
        "package/StructureDefinition-x.json": {"resourceType": "StructureDefinition", "url": "http://ignored/sd"},
    }
    resources.update(extra or {})
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{name}-{version}.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for member, resource in resources.items():
            data = resource if isinstance(resource, bytes) else json.dumps(resource).encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


DESCRIPTION_HEADER = "id\teffectiveTime\tactive\tmoduleId\tconceptId\tlanguageCode\ttypeId\tterm\tcaseSignificanceId"
REFSET_HEADER = "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\tacceptabilityId"
FSN, SYN = "900000000000003001", "900000000000013009"
PREF, ACC = "900000000000548007", "900000000000549004"
CASE = "900000000000448009"


def rf2_files(folder: Path, with_refset: bool = True, lang: str = "de", ns: str = "CH1000195",
              date: str = "20251201") -> list[Path]:
    """A national-edition style description snapshot (made-up German terms) and its language refset."""
    rows = [
        ("d1", "1", "38341003", FSN, "Hypertonie-FSN (Test) (Störung)"),
        ("d2", "1", "38341003", SYN, "Bluthochdruck (Test)"),           # acceptable synonym, listed first
        ("d3", "1", "38341003", SYN, "Hypertonie, arteriell (Test)"),   # preferred in the refset
        ("d4", "0", "10013000", SYN, "Meniskus inaktiv (Test)"),         # inactive: never used
        ("d5", "1", "10013000", SYN, "Aussenmeniskus (Test)"),
        ("d6", "1", "999000002", SYN, "Nur-national (Test)"),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    desc = folder / f"sct2_Description_Snapshot-{lang}_{ns}_{date}.txt"
    lines = [DESCRIPTION_HEADER] + [f"{i}\t{date}\t{a}\t2011000195101\t{c}\t{lang}\t{t}\t{term}\t{CASE}"
                                    for i, a, c, t, term in rows]
    desc.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    out = [desc]
    if with_refset:
        refset = folder / f"der2_cRefset_LanguageSnapshot-{lang}_{ns}_{date}.txt"
        rrows = [("r1", "d2", ACC), ("r2", "d3", PREF), ("r3", "d5", PREF), ("r4", "d6", PREF)]
        lines = [REFSET_HEADER] + [f"{i}\t{date}\t1\t2011000195101\t2041000195100\t{d}\t{a}" for i, d, a in rrows]
        refset.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
        out.append(refset)
    return out


LOINC_HEADER = ("LOINC_NUM,COMPONENT,PROPERTY,TIME_ASPCT,SYSTEM,SCALE_TYP,METHOD_TYP,CLASS,SHORTNAME,"
                "LONG_COMMON_NAME,LinguisticVariantDisplayName")


def loinc_csv(folder: Path, name: str = "nlNL20LinguisticVariant.csv", header: str = LOINC_HEADER) -> Path:
    """A LOINC linguistic variant in the distributed CSV layout (made-up Dutch names)."""
    rows = [
        '"8480-6","Bloeddruk systolisch (test)","Druk","Pt","Arterieel","Qn","","BP","BDsys","Systolische bloeddruk (test)",""',
        '"2340-8","Glucose (test)","MCnc","Pt","Bld","Qn","","CHEM","Gluc","",""',
        '"99999-9","Nieuw, ""met aanhalingstekens"" (test)","Prid","Pt","^Patient","Nom","","X","","Testcode (test)",""',
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path
