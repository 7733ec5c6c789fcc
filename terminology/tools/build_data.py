"""Compile the project's terminology sources into FHIR JSON under ``terminology/data/``.

Usage::

    python -m terminology.tools.build_data            # (re)write the compiled files
    python -m terminology.tools.build_data --check    # exit 1 if a compiled file is stale

Inputs -> outputs:

- ``sources/national/problems.csv``  -> ``data/national/CodeSystem-cim-10-fr.json``,
  ``CodeSystem-icd-10-gm.json``, ``CodeSystem-icd-9-cm-it.json`` and ConceptMaps to ICD-10 and SNOMED CT
  (Italy's ICD-9-CM codes carry their own ICD-10 target and equivalence: columns ``it_icd10``,
  empty = the row's ``icd10``, and ``it_equivalence``, ``equivalent`` or ``wider``);
- ``sources/national/medicines.csv`` -> ``data/national/CodeSystem-cip13.json``, ``CodeSystem-pzn.json``,
  ``CodeSystem-aifa-aic.json`` and ConceptMaps to ATC with the EDQM dose form, EDQM route and strength
  as ``target.product``;
- :mod:`terminology._catalogue_data` (+ the SNOMED CT codes of problems.csv) -> ``data/project/``
  CodeSystem fragments (English displays of concepts the MVC lacks) and catalogue ValueSets;
- ``sources/designations/*.csv`` (curated, header ``system,code,en,fr,de,es,it,pt,nl,pl``) ->
  ``data/supplements/CodeSystem-supplement-<system>.json`` (FHIR CodeSystem supplements). Each row must
  name a code the compiled data has (MVC, national or project CodeSystem; concepts the MVC lacks are
  added to ``_catalogue_data.EXTRA`` first) and its ``en`` cell must equal that code's display.

ConceptMap product convention (documented in data/PROVENANCE.md): for a medicinal product the
main target is the ATC code (equivalence ``wider``: the product is narrower than its substance
class); ``target.product`` carries ``property`` = ``PRODUCT_PROPERTY#doseForm`` / ``#route`` (EDQM
codings) and ``#strength`` (``value`` = strength text, no system).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from .. import _catalogue_data as cat
from .. import systems as S
from ._write import DATA_DIR, SOURCES_DIR, dump, slug
from .check_digits import aic_ok, ean13_ok, pzn_ok

PUBLISHER = "ncpeh-gateway project (hand-curated; see terminology/data/PROVENANCE.md)"
PRODUCT_PROPERTY = "http://ncpeh.example.eu/fhir/ConceptMap/product-property"
BASE = "http://ncpeh.example.eu/fhir"
LANGS = ("en", "fr", "de", "es", "it", "pt", "nl", "pl")
DESIGNATION_HEADER = ["system", "code", *LANGS]


class SourceError(Exception):
    pass


#: ConceptMap equivalences a national problem code may have to its ICD-10 target (the loader derives
#: designations from these three; "narrower"/"inexact" maps would leave the code without English)
PROBLEM_EQUIVALENCES = ("equal", "equivalent", "wider")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows, 2):
        if None in row or any(v is None for v in row.values()):
            raise SourceError(f"{path}:{i}: wrong number of cells")
    return rows


def _mvc_displays() -> dict[str, dict[str, str]]:
    """English displays of the imported code systems: the eHDSI MVC (``data/mvc/``) and the HL7 Terminology
    code systems (``data/tho/``, written by ``import_tho``); a project concept or designation row may name them."""
    out: dict[str, dict[str, str]] = {}
    for folder in ("mvc", "tho"):
        for path in sorted((DATA_DIR / folder).glob("CodeSystem-*.json")):
            cs = orjson.loads(path.read_bytes())
            out.setdefault(cs["url"], {}).update({c["code"]: c.get("display", "") for c in cs["concept"]})
    return out


def _meta(source: str) -> dict[str, Any]:
    return {"source": source}


def _codesystem(
    id_: str, url: str, title: str, language: str, description: str, concepts: list[dict[str, Any]],
    properties: list[dict[str, str]] | None = None, content: str = "fragment", source: str = "",
) -> dict[str, Any]:
    cs: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": id_,
        "meta": _meta(source),
        "language": language,
        "url": url,
        "name": "".join(ch if ch.isalnum() else "_" for ch in title).strip("_"),
        "title": title,
        "status": "active",
        "experimental": True,
        "publisher": PUBLISHER,
        "description": description,
        "caseSensitive": True,
        "content": content,
        "count": len(concepts),
    }
    if properties:
        cs["property"] = properties
    cs["concept"] = concepts
    return cs


def _conceptmap(
    id_: str, title: str, description: str, source_uri: str, groups: list[dict[str, Any]], source: str
) -> dict[str, Any]:
    return {
        "resourceType": "ConceptMap",
        "id": id_,
        "meta": _meta(source),
        "url": f"{BASE}/ConceptMap/{id_}",
        "name": "".join(ch if ch.isalnum() else "_" for ch in title).strip("_"),
        "title": title,
        "status": "active",
        "experimental": True,
        "publisher": PUBLISHER,
        "description": description,
        "sourceUri": source_uri,
        "group": groups,
    }


def _valueset(id_: str, title: str, description: str, by_system: dict[str, list[str]], source: str) -> dict:
    return {
        "resourceType": "ValueSet",
        "id": id_,
        "meta": _meta(source),
        "url": f"{BASE}/ValueSet/{id_}",
        "name": "".join(ch if ch.isalnum() else "_" for ch in title).strip("_"),
        "title": title,
        "status": "active",
        "experimental": True,
        "publisher": PUBLISHER,
        "description": description,
        "compose": {
            "include": [
                {"system": system, "concept": [{"code": c} for c in codes]} for system, codes in by_system.items()
            ]
        },
    }


def build_national(mvc: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    """The national CodeSystems and ConceptMaps of problems.csv and medicines.csv (+ the problems' SNOMED CT)."""
    out: dict[str, dict[str, Any]] = {}
    snomed_extra = _national_problems(mvc, out)
    _national_medicines(mvc, out)
    out["_snomed_problems"] = snomed_extra  # consumed by build_project
    return out


def _national_problems(mvc: dict[str, dict[str, str]], out: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Per country, the problems CodeSystem and its maps to ICD-10 and SNOMED CT; returns the SNOMED CT codes used."""
    src_p = "terminology/sources/national/problems.csv"
    problems = _rows(SOURCES_DIR / "national" / "problems.csv")
    icd = mvc[S.ICD10]
    countries = {
        "FR": (S.CIM10_FR, "fr", "cim-10-fr", "CIM-10 (version française de la CIM-10, ATIH) - extrait"),
        "DE": (S.ICD10GM_DE, "de", "icd-10-gm", "ICD-10-GM (BfArM) - Auszug"),
        "IT": (S.ICD9CM_IT, "it", "icd-9-cm-it",
               "ICD-9-CM (versione italiana 2007, Ministero della Salute) - estratto"),
    }
    snomed_extra: dict[str, str] = {}
    for country, (uri, lang, sid, title) in countries.items():
        concepts, icd_elems, sct_elems = _problem_elements(problems, country, icd, snomed_extra, src_p)
        desc = (
            f"Hand-curated extract of {title.split(' - ')[0]} ({len(concepts)} codes commonly found in patient "
            "summaries) with displays in the national language, for the ncpeh-gateway prototype. Codes follow "
            "the national classification; displays were written from the published classification and should "
            "be verified against the official release before any production use."
        )
        out[f"national/CodeSystem-{sid}.json"] = _codesystem(
            sid, uri, title, lang, desc, concepts, source=src_p,
            properties=[
                {"code": "chronic", "type": "boolean", "description": "Usually a long-term condition"},
                {"code": "catalogue", "type": "code", "description": "Synthetic-population catalogue category"},
            ],
        )
        out[f"national/ConceptMap-{sid}-to-icd-10.json"] = _conceptmap(
            f"{sid}-to-icd-10", f"{title.split(' - ')[0]} to ICD-10 (eHDSI pivot)",
            f"Transcoding of {title.split(' - ')[0]} to WHO ICD-10 as used by eHDSIIllnessandDisorder: national "
            "extension codes map to their WHO parent ('wider')"
            + ("; ICD-9-CM codes map to the ICD-10 code of the same meaning ('equivalent', following the CMS "
               "General Equivalence Mappings) or to the broader ICD-10 code ('wider')." if country == "IT" else "."),
            uri,
            [{"source": uri, "target": S.ICD10, "element": icd_elems}], src_p,
        )
        out[f"national/ConceptMap-{sid}-to-snomed-ct.json"] = _conceptmap(
            f"{sid}-to-snomed-ct", f"{title.split(' - ')[0]} to SNOMED CT",
            "Additional SNOMED CT coding for problems (IPS style), where a clear equivalent exists.", uri,
            [{"source": uri, "target": S.SNOMED, "element": sct_elems}], src_p,
        )
    return snomed_extra


def _problem_elements(problems: list[dict[str, str]], country: str, icd: dict[str, str], snomed_extra: dict[str, str],
                      src_p: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """One country's problem concepts and their ConceptMap elements to ICD-10 and SNOMED CT (checked rows)."""
    concepts: list[dict[str, Any]] = []
    icd_elems: list[dict[str, Any]] = []
    sct_elems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, row in enumerate(problems, 2):
        cc = country.lower()
        code, display = row[f"{cc}_code"], row[f"{cc}_display"]
        if not code:
            continue
        target = row.get(f"{cc}_icd10") or row["icd10"]
        if target not in icd:
            raise SourceError(f"{src_p}:{line}: ICD-10 code {target!r} is not in the eHDSI MVC")
        equivalence = row.get(f"{cc}_equivalence") or ("equal" if code == target else "wider")
        if equivalence not in PROBLEM_EQUIVALENCES or (equivalence == "equal") != (code == target):
            raise SourceError(f"{src_p}:{line}: {cc}_equivalence {equivalence!r}: use equal (same code), "
                              "equivalent or wider")
        if code in seen:
            continue
        seen.add(code)
        cats = row["categories"].split()
        concepts.append({
            "code": code,
            "display": display,
            "property": [
                {"code": "chronic", "valueBoolean": row["chronic"] == "true"},
                *({"code": "catalogue", "valueCode": c} for c in cats),
            ],
        })
        icd_elems.append({
            "code": code, "display": display,
            "target": [{"code": target, "display": icd[target], "equivalence": equivalence}],
        })
        if row["snomed"]:
            # the SNOMED CT concept of a row has the meaning of its ICD-10 code: a national code
            # mapped 'wider' to ICD-10 (more specific than it) is mapped 'wider' to SNOMED CT too
            snomed_extra[row["snomed"]] = row["snomed_en"]
            sct_elems.append({
                "code": code, "display": display,
                "target": [{"code": row["snomed"], "display": row["snomed_en"],
                            "equivalence": "wider" if equivalence == "wider" and country == "IT"
                            else "equivalent"}],
            })
    return concepts, icd_elems, sct_elems


def _national_medicines(mvc: dict[str, dict[str, str]], out: dict[str, dict[str, Any]]) -> None:
    """Per country, the medicinal-products CodeSystem and its map to ATC with EDQM dose form, route and strength."""
    src_m = "terminology/sources/national/medicines.csv"
    meds = _rows(SOURCES_DIR / "national" / "medicines.csv")
    atc, edqm = mvc[S.ATC], mvc[S.EDQM]
    products = {
        "FR": (S.CIP13_FR, "fr", "cip13", "cip13", ean13_ok, "CIP13 (codes présentation, ANSM/CIP) - extrait synthétique"),
        "DE": (S.PZN_DE, "de", "pzn", "pzn", pzn_ok, "PZN (Pharmazentralnummer, IFA) - synthetischer Auszug"),
        "IT": (S.AIC_IT, "it", "aic", "aifa-aic", aic_ok,
               "AIC (codice di Autorizzazione all'Immissione in Commercio, AIFA) - estratto sintetico"),
    }
    for country, (uri, lang, col, sid, check, title) in products.items():
        concepts, elems = _product_elements(meds, country, lang, col, check, atc, edqm, src_m)
        desc = (
            f"Synthetic extract of {title.split(' - ')[0]}: {len(concepts)} medicinal products with realistic-looking "
            "but invented codes (valid check digits) and names of common generic medicines ('EUROGEN' is a "
            "fictitious marketing-authorisation holder). Not real product codes."
            + (" AIC codes use product numbers 098001 upwards, far above those AIFA has issued."
               if country == "IT" else "")
        )
        out[f"national/CodeSystem-{sid}.json"] = _codesystem(
            sid, uri, title, lang, desc, concepts, source=src_m,
            properties=[
                {"code": "atc", "type": "Coding", "description": "ATC code of the active ingredient(s)"},
                {"code": "doseForm", "type": "Coding", "description": "EDQM Standard Terms dose form"},
                {"code": "route", "type": "Coding", "description": "EDQM Standard Terms route of administration"},
                {"code": "strength", "type": "string", "description": "Strength as printed"},
                {"code": "dosage", "type": "string", "description": "Typical dosage, national language"},
                {"code": "dosageEn", "type": "string", "description": "Typical dosage, English"},
                {"code": "indication", "type": "Coding", "description": "Typical indication (ICD-10)"},
            ],
        )
        out[f"national/ConceptMap-{sid}-to-atc.json"] = _conceptmap(
            f"{sid}-to-atc", f"{title.split(' - ')[0]} to ATC + EDQM dose form/route + strength",
            "Transcoding of national medicinal-product codes to the eHDSI pivot: the main target is the ATC "
            "code (eHDSIActiveIngredient); target.product carries the EDQM dose form (eHDSIDoseForm), the EDQM "
            f"route (eHDSIRouteofAdministration) and the strength, with property {PRODUCT_PROPERTY}#doseForm, "
            "#route and #strength.", uri,
            [{"source": uri, "target": S.ATC, "element": elems}], src_m,
        )


def _product_elements(meds: list[dict[str, str]], country: str, lang: str, col: str, check: Callable[[str], bool],
                      atc: dict[str, str], edqm: dict[str, str],
                      src_m: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One country's product concepts and their ConceptMap elements to ATC (checked rows)."""
    concepts: list[dict[str, Any]] = []
    elems: list[dict[str, Any]] = []
    for line, row in enumerate(meds, 2):
        code = row[col]
        if not code:
            continue
        if not check(code):
            raise SourceError(f"{src_m}:{line}: {col} {code!r} has a wrong length or check digit")
        for key, table in (("atc", atc), ("dose_form", edqm), ("route", edqm)):
            if row[key] not in table:
                raise SourceError(f"{src_m}:{line}: {key} {row[key]!r} is not in the eHDSI MVC")
        name = row[f"{country.lower()}_name"]
        props = [
            {"code": "atc", "valueCoding": {"system": S.ATC, "code": row["atc"], "display": atc[row["atc"]]}},
            {"code": "doseForm", "valueCoding": {"system": S.EDQM, "code": row["dose_form"],
                                                 "display": edqm[row["dose_form"]]}},
            {"code": "route", "valueCoding": {"system": S.EDQM, "code": row["route"],
                                              "display": edqm[row["route"]]}},
            {"code": "strength", "valueString": row["strength"]},
            {"code": "dosage", "valueString": row[f"dosage_{lang}"]},
            {"code": "dosageEn", "valueString": row["dosage_en"]},
        ]
        if row["indication"]:
            props.append({"code": "indication", "valueCoding": {"system": S.ICD10, "code": row["indication"]}})
        concepts.append({"code": code, "display": name, "property": props})
        elems.append({
            "code": code, "display": name,
            "target": [{
                "code": row["atc"], "display": atc[row["atc"]], "equivalence": "wider",
                "product": [
                    {"property": f"{PRODUCT_PROPERTY}#doseForm", "system": S.EDQM, "value": row["dose_form"],
                     "display": edqm[row["dose_form"]]},
                    {"property": f"{PRODUCT_PROPERTY}#route", "system": S.EDQM, "value": row["route"],
                     "display": edqm[row["route"]]},
                    {"property": f"{PRODUCT_PROPERTY}#strength", "value": row["strength"]},
                ],
            }],
        })
    return concepts, elems


def build_project(mvc: dict[str, dict[str, str]], snomed_problems: dict[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    src = "terminology/_catalogue_data.py"
    extra: dict[str, dict[str, str]] = defaultdict(dict)

    def add(system: str, code: str, display: str) -> None:
        if code in mvc.get(system, {}):
            return
        old = extra[system].setdefault(code, display)
        if old != display:
            raise SourceError(f"{src}: {system}|{code}: two different displays {old!r} / {display!r}")

    for category, entries in cat.SHARED.items():
        for system, code, display, _props in entries:
            add(system, code, display)
        by_system: dict[str, list[str]] = defaultdict(list)
        for system, code, _d, _p in entries:
            by_system[system].append(code)
        vid = f"catalogue-{category.replace('_', '-')}"
        out[f"project/ValueSet-{vid}.json"] = _valueset(
            vid, f"ncpeh catalogue: {category.replace('_', ' ')}",
            f"Codes the synthetic-population generator draws from for '{category}' (all countries).",
            dict(by_system), src,
        )
    for system, code, display in cat.EXTRA:
        add(system, code, display)
    for code, display in snomed_problems.items():
        add(S.SNOMED, code, display)
    for system, codes in sorted(extra.items()):
        sid = slug(system)
        concepts = [{"code": c, "display": codes[c]} for c in sorted(codes)]
        out[f"project/CodeSystem-ncpeh-{sid}.json"] = _codesystem(
            f"ncpeh-{sid}", system, f"{sid} concepts added by ncpeh-gateway", "en",
            "English displays (as published by the code system) of concepts used by patient summaries and the "
            "synthetic population that the eHDSI MVC 8.1.0 snapshot does not carry (e.g. LOINC laboratory codes, "
            "FHIR status codes, SNOMED CT disorders used as additional problem codings).",
            concepts, source=src,
        )
    return out


def build_supplements(known: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    folder = SOURCES_DIR / "designations"
    per_system: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    origin: dict[str, set[str]] = defaultdict(set)
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header != DESIGNATION_HEADER:
                raise SourceError(f"{path}: header must be {','.join(DESIGNATION_HEADER)}")
            for line, row in enumerate(reader, 2):
                if not row:
                    continue
                if len(row) != len(DESIGNATION_HEADER):
                    raise SourceError(f"{path}:{line}: {len(row)} cells, expected {len(DESIGNATION_HEADER)}")
                system, code = row[0].strip(), row[1].strip()
                texts = {lang: cell.strip() for lang, cell in zip(LANGS, row[2:], strict=True) if cell.strip()}
                display = known.get(system, {}).get(code)
                if display is None:
                    raise SourceError(
                        f"{path}:{line}: {system}|{code} is not a code the terminology ships (eHDSI MVC, national or "
                        "project CodeSystems); add a concept the MVC lacks to terminology/_catalogue_data.py EXTRA")
                if texts.get("en", display) != display:
                    raise SourceError(f"{path}:{line}: en {texts['en']!r} differs from the code system's display "
                                      f"{display!r}")
                if code in per_system[system]:
                    raise SourceError(f"{path}:{line}: {system}|{code} already has a row (each code once across "
                                      "all designation files)")
                per_system[system][code] = texts
                origin[system].add(path.name)
    for system, codes in sorted(per_system.items()):
        sid = slug(system)
        concepts = []
        for code in sorted(codes):
            entry: dict[str, Any] = {"code": code}
            display = known.get(system, {}).get(code)
            if display:
                entry["display"] = display
            entry["designation"] = [{"language": lang, "value": text} for lang, text in codes[code].items()]
            concepts.append(entry)
        cs = _codesystem(
            f"supplement-{sid}", f"{BASE}/CodeSystem/supplement-{sid}", f"Designations for {sid}", "en",
            "Curated designations (translations) compiled from terminology/sources/designations/"
            f"{{{', '.join(sorted(origin[system]))}}}. Written for the ncpeh-gateway prototype; see the curators' "
            "notes in those files and terminology/data/PROVENANCE.md.",
            concepts, content="supplement", source="terminology/sources/designations",
        )
        cs["supplements"] = system
        out[f"supplements/CodeSystem-supplement-{sid}.json"] = cs
    return out


def build_all() -> dict[str, bytes]:
    """Every compiled file (path relative to data/) and its exact bytes."""
    mvc = _mvc_displays()
    national = build_national(mvc)
    snomed_problems = national.pop("_snomed_problems")
    project = build_project(mvc, snomed_problems)
    known: dict[str, dict[str, str]] = {s: dict(c) for s, c in mvc.items()}
    for res in (*national.values(), *project.values()):
        if res["resourceType"] == "CodeSystem":
            known.setdefault(res["url"], {}).update({c["code"]: c.get("display", "") for c in res["concept"]})
    supplements = build_supplements(known)
    files = {**national, **project, **supplements}
    return {name: dump(res) for name, res in sorted(files.items())}


MANAGED = ("national", "project", "supplements")


def stale_files(data_dir: Path = DATA_DIR) -> list[str]:
    """Compiled files that are missing, different or left over (empty list = up to date)."""
    wanted = build_all()
    problems = [name for name, data in wanted.items()
                if not (data_dir / name).exists() or (data_dir / name).read_bytes() != data]
    for sub in MANAGED:
        for path in (data_dir / sub).glob("*.json"):
            if f"{sub}/{path.name}" not in wanted:
                problems.append(f"{sub}/{path.name} (left over)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compile terminology sources into terminology/data/")
    parser.add_argument("--check", action="store_true", help="only report stale compiled files")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_files()
            for name in stale:
                print(f"stale: {name}")
            return 1 if stale else 0
        wanted = build_all()
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, data in wanted.items():
        path = DATA_DIR / name
        if not path.exists() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"wrote {name}")
    for sub in MANAGED:
        for path in (DATA_DIR / sub).glob("*.json"):
            if f"{sub}/{path.name}" not in wanted:
                path.unlink()
                print(f"removed {sub}/{path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
