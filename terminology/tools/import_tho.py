"""Import the HL7 code systems patient summaries use from an unpacked HL7 Terminology (THO) NPM package.

Usage::

    python -m terminology.tools.import_tho /tmp/npm/tho/package     # hl7.terminology.r4 (tested: 7.0.1)

Writes ``terminology/data/tho/CodeSystem-<id>.json``: code and English display of every concept (hierarchies
flattened; abstract ``_…`` grouping codes left out) of the code systems in :data:`SELECTION`, or of the listed
subset for the large ones (``content: fragment``). Codes the eHDSI MVC already carries (``data/mvc/``) are left
out, so their MVC display stays the one shown. ``meta.source`` records the package and version. THO is
published under CC0. Rerunnable: unchanged files are not rewritten. Curated designations for these codes
live in ``terminology/sources/designations/`` like all others.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from ._write import DATA_DIR, write

OUT = DATA_DIR / "tho"
PUBLISHER = "HL7 International (HL7 Terminology, THO), CC0; imported by ncpeh-gateway"

#: family members (v3-RoleCode, PersonalRelationshipRoleType) recorded in family histories and contacts
_FAMILY = (
    "FAMMEMB CHILD CHLDADOPT CHLDFOST CHLDINLAW DAU SON STPCHLD NCHILD PRN FTH MTH STPFTH STPMTH GRPRN GRFTH GRMTH "
    "MGRFTH MGRMTH PGRFTH PGRMTH GGRPRN GRNDCHILD GRNDDAU GRNDSON SIB BRO SIS HSIB TWIN TWINBRO TWINSIS "
    "AUNT UNCLE MAUNT MUNCLE PAUNT PUNCLE COUSN NIECE NEPHEW NIENEPH SPS HUSB WIFE DOMPART SIGOTHR FRND NBOR ROOM "
    "ONESELF INLAW PRNINLAW FTHINLAW MTHINLAW SIBINLAW BROINLAW SISINLAW GUARD NOK ECON"
).split()
#: encounter classes (v3-ActCode, ``Encounter.class``) and encounter participant types (v3-ParticipationType,
#: ``Encounter.participant.type``; the MVC carries the performer functions)
_ENCOUNTER_CLASSES = ("AMB", "EMER", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "VR", "HH")
_PARTICIPATION_TYPES = ("REF", "CON", "ATND", "ADM", "DIS", "PART", "AUT", "INF", "WIT", "VRF", "AUTHEN", "ENT", "RCV",
                        "LA")

#: v3-ActReason: why an immunization was not given (``Immunization.statusReason``) and the purposes of use of
#: consents and access records
_ACT_REASONS = ("IMMUNE", "MEDPREC", "OSTOCK", "PATOBJ", "PHILISOP", "RELIG", "VACEFF", "VACSAF",
                "TREAT", "ETREAT", "PATRQT", "COC", "PUBHLTH", "HRESCH", "HPAYMT", "CAREMGT", "CLINTRCH", "HOPERAT",
                "FAMRQT", "PWATRNY", "SUPNWK", "DISASTER", "THREAT")

#: THO CodeSystem id -> None (every code) or the codes to import (the system is large)
SELECTION: dict[str, tuple[str, ...] | None] = {
    "referencerange-meaning": None,
    # identifier types: every code (patients, practitioners, organisations, and the placer/filler order and
    # specimen identifiers of laboratory reports)
    "v2-0203": None,
    # provider roles (laboratory and encounter messages: ordering, attending, referring, primary care...)
    "v2-0443": None,
    "v3-MaritalStatus": None,
    "organization-type": None,
    "flag-category": None,
    "reaction-event-certainty": None,
    "observation-category": None,
    "condition-category": None,
    "condition-clinical": None,
    "condition-ver-status": None,
    "allergyintolerance-clinical": None,
    "allergyintolerance-verification": None,
    "data-absent-reason": None,
    "dose-rate-type": None,
    "v2-0131": None,
    "v3-NullFlavor": None,
    "list-empty-reason": None,
    "consentscope": None,
    "consentcategorycodes": None,
    "v3-Confidentiality": ("U", "L", "M", "N", "R", "V"),
    "v3-RoleCode": tuple(_FAMILY),
    "v3-AdministrativeGender": None,
    "v3-ParticipationMode": None,
    "v3-ActCode": _ENCOUNTER_CLASSES,
    "v3-ParticipationType": _PARTICIPATION_TYPES,
    # diagnostic service sections (``DiagnosticReport.category`` of results and reports)
    "v2-0074": None,
    "v2-0532": None,
    "medicationrequest-category": None,
    "medicationrequest-course-of-therapy": None,
    "immunization-recommendation-status": None,
    "immunization-origin": None,
    "immunization-subpotent-reason": None,
    "immunization-funding-source": None,
    "diagnosis-role": None,
    "v3-LanguageAbilityMode": None,
    "v3-LanguageAbilityProficiency": None,
    "v3-ActReason": _ACT_REASONS,
    "v3-RouteOfAdministration": ("PO", "SL", "BUC", "CHEW", "IM", "IV", "IVINJ", "IVINJBOL", "SQ", "SQINFUS", "IDINJ",
                                 "IA", "IVITINJ", "IOINJ", "TRNSDERMD", "TOPICAL", "ORINHL", "NASINHL", "NASAL",
                                 "OPTHALTA", "OT", "RECTAL", "VAGINSI", "SUBCONJTA", "GT", "NGT", "IT", "EPI"),
}


def _flatten(concepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in concepts:
        out.append(c)
        out.extend(_flatten(c.get("concept", [])))
    return out


def build(package: Path) -> dict[str, dict[str, Any]]:
    """CodeSystem resources (file name -> resource) for :data:`SELECTION` from the unpacked package."""
    meta = orjson.loads((package / "package.json").read_bytes())
    source = f"{meta['name']}@{meta['version']}"
    in_mvc: dict[str, set[str]] = {}
    for path in (DATA_DIR / "mvc").glob("CodeSystem-*.json"):
        mvc = orjson.loads(path.read_bytes())
        in_mvc.setdefault(mvc["url"], set()).update(c["code"] for c in mvc["concept"])
    out: dict[str, dict[str, Any]] = {}
    for id_, subset in SELECTION.items():
        cs = orjson.loads((package / f"CodeSystem-{id_}.json").read_bytes())
        flat = {c["code"]: c for c in _flatten(cs.get("concept", [])) if not c["code"].startswith("_")}
        codes = list(subset) if subset is not None else list(flat)
        missing = [c for c in codes if c not in flat]
        if missing:
            raise SystemExit(f"{id_}: codes not in {source}: {', '.join(missing)}")
        skip = in_mvc.get(cs["url"], set())
        concepts = [{"code": c, "display": flat[c].get("display") or c} for c in codes if c not in skip]
        out[f"CodeSystem-{id_}.json"] = {
            "resourceType": "CodeSystem",
            "id": f"tho-{id_}",
            "meta": {"source": source},
            "language": "en",
            "url": cs["url"],
            "version": cs.get("version"),
            "name": cs.get("name"),
            "title": cs.get("title") or cs.get("name"),
            "status": cs.get("status", "active"),
            "publisher": PUBLISHER,
            "description": f"Codes and English displays of {cs['url']} from the HL7 Terminology package {source} "
                           f"(CC0){'' if subset is None else f'; subset of {len(codes)} codes used by patient summaries'}.",
            "caseSensitive": True,
            "content": "complete" if subset is None and not skip & set(codes) else "fragment",
            "count": len(concepts),
            "concept": concepts,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", type=Path, help="unpacked hl7.terminology.r4 package folder (holding package.json)")
    args = parser.parse_args(argv)
    wanted = build(args.package)
    for name, res in wanted.items():
        if write(OUT / name, res):
            print(f"wrote tho/{name}")
    for path in OUT.glob("*.json"):
        if path.name not in wanted:
            path.unlink()
            print(f"removed tho/{path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
