"""Import the eHDSI Master Value set Catalogue (MVC) into ``terminology/data/mvc/``.

Usage::

    python -m terminology.tools.import_mvc /work/shared/reference/ehdsi-mvc [--out terminology/data/mvc]

Input: one JSON file per value set (``name``, ``url``, ``identifier``, ``version``, ``title``,
``description``, ``concepts`` with ``system``/``code``/``display``), as in the shared reference
folder (see its README for provenance).  Output (re-runnable, deterministic, compact JSON):

- ``ValueSet-<name>.json``: a FHIR R4 ValueSet whose ``compose.include`` lists the codes per system
  (codes only: displays live in the code systems);
- ``CodeSystem-<slug>.json``: one CodeSystem *fragment* per external code system with the English
  displays of every code the MVC uses (``content: "fragment"``).

Codes and displays are copied unchanged.  The run never reads anything but the given folder and
writes only the output folder.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from ._write import DATA_DIR, slug, write

SOURCE_REPO = "https://github.com/hl7-eu/EHDSI-Terminology-package"
SOURCE_COMMIT = "25202ea6a0dedb590840c93b8d595b66cdab962f"
SOURCE = f"{SOURCE_REPO}/tree/{SOURCE_COMMIT}/input/fsh/valuesets/mvc"
PUBLISHER = "HL7 Europe (eHDSI Master Value set Catalogue 8.1.0); imported by ncpeh-gateway"
PROVENANCE_NOTE = (
    "Imported from the eHDSI Master Value set Catalogue (MVC) 8.1.0 as published in the HL7 Europe "
    f"'eHDSI Terminologies' implementation guide ({SOURCE_REPO}, commit {SOURCE_COMMIT}); codes and "
    "English displays unchanged. See terminology/data/PROVENANCE.md."
)
SYSTEM_NAMES: dict[str, tuple[str, str]] = {
    "http://snomed.info/sct": ("SNOMED CT", "SNOMED International; SNOMED CT licence (free in member countries)"),
    "http://loinc.org": ("LOINC", "Regenstrief Institute; LOINC licence"),
    "http://hl7.org/fhir/sid/icd-10": ("ICD-10", "World Health Organization"),
    "http://www.whocc.no/atc": ("ATC", "WHO Collaborating Centre for Drug Statistics Methodology"),
    "http://standardterms.edqm.eu": ("EDQM Standard Terms", "EDQM, Council of Europe"),
    "http://unitsofmeasure.org": ("UCUM", "Regenstrief Institute; UCUM licence"),
    "https://www.orpha.net": ("Orphanet nomenclature (ORPHAcodes)", "Orphanet / INSERM; CC BY 4.0"),
}


def _meta(version: str) -> dict[str, Any]:
    return {"source": SOURCE, "tag": [{"system": "http://ncpeh.example.eu/fhir/tag", "code": "ehdsi-mvc-" + version}]}


def convert(src: Path, out: Path) -> tuple[int, int, int]:
    """Convert every ``*.json`` of ``src`` into ``out``; returns (value sets, concepts, code systems)."""
    files = sorted(p for p in src.glob("*.json"))
    if not files:
        raise SystemExit(f"no value set JSON files in {src}")
    displays: dict[str, dict[str, str]] = defaultdict(dict)
    used_by: dict[str, list[str]] = defaultdict(list)
    n_concepts = 0
    written: set[str] = set()
    version = "8.1.0"
    for path in files:
        vs = orjson.loads(path.read_bytes())
        version = vs.get("version") or version
        by_system: dict[str, list[dict[str, str]]] = defaultdict(list)
        for i, c in enumerate(vs["concepts"]):
            try:
                system, code, display = c["system"], c["code"], c.get("display")
            except KeyError as exc:
                raise SystemExit(f"{path}: concepts[{i}]: missing {exc}") from exc
            by_system[system].append({"code": code})
            if display:
                old = displays[system].setdefault(code, display)
                if old != display:
                    raise SystemExit(f"{path}: concepts[{i}]: display conflicts with another value set")
            n_concepts += 1
        for system in by_system:
            if vs["name"] not in used_by[system]:
                used_by[system].append(vs["name"])
        resource = {
            "resourceType": "ValueSet",
            "id": vs["name"],
            "meta": _meta(version),
            "url": vs["url"],
            "identifier": [{"system": "urn:ietf:rfc:3986", "value": vs["identifier"]}],
            "version": version,
            "name": vs["name"],
            "title": vs.get("title") or vs["name"],
            "status": "active",
            "publisher": PUBLISHER,
            "description": ((vs.get("description") or "").strip() + "\n\n" + PROVENANCE_NOTE).strip(),
            "compose": {
                "include": [
                    {"system": system, "concept": concepts} for system, concepts in sorted(by_system.items())
                ]
            },
        }
        name = f"ValueSet-{vs['name']}.json"
        write(out / name, resource)
        written.add(name)
    for system, codes in sorted(displays.items()):
        sid = slug(system)
        title, copyright_ = SYSTEM_NAMES.get(system, (system, "see the code system's publisher"))
        resource = {
            "resourceType": "CodeSystem",
            "id": f"mvc-{sid}",
            "meta": _meta(version),
            "url": system,
            "name": "MVC_" + "".join(ch if ch.isalnum() else "_" for ch in sid),
            "title": f"{title} (fragment used by the eHDSI MVC {version})",
            "status": "active",
            "publisher": PUBLISHER,
            "description": f"English displays of the {title} codes used by value sets "
            f"{', '.join(used_by[system])}. " + PROVENANCE_NOTE,
            "copyright": copyright_,
            "caseSensitive": True,
            "content": "fragment",
            "count": len(codes),
            "concept": [{"code": code, "display": codes[code]} for code in sorted(codes)],
        }
        name = f"CodeSystem-mvc-{sid}.json"
        write(out / name, resource)
        written.add(name)
    for stale in out.glob("*.json"):
        if stale.name not in written:
            stale.unlink()
    return len(files), n_concepts, len(displays)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="folder with the MVC value set JSON files")
    parser.add_argument("--out", type=Path, default=DATA_DIR / "mvc")
    args = parser.parse_args(argv)
    n_vs, n_concepts, n_cs = convert(args.source, args.out)
    print(f"{n_vs} value sets, {n_concepts} concepts, {n_cs} code system fragments -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
