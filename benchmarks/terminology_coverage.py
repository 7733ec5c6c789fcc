"""How much of a set of patient summaries the shipped catalogue translates, per code system and language.

    python benchmarks/terminology_coverage.py                 # the HL7 IPS 2.0.0 example Bundles (test fixtures)
    python benchmarks/terminology_coverage.py FILE.json ...   # other FHIR Bundles
    python benchmarks/terminology_coverage.py --valuesets     # per eHDSI MVC value set: concepts, translated per language

Counts codings of standard code systems only (SNOMED CT, LOINC, ATC, ICD-10, EDQM, UCUM, HL7 THO/FHIR, …,
see ``terminology.systems.is_standard_system``); national codes (e.g. the Dutch G-Standaard, US CVX) are left
out.
A coding counts as translated in a language when the catalogue has a designation in that very language.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import terminology  # noqa: E402
from terminology.coverage_report import valueset_table  # noqa: E402
from terminology.systems import is_standard_system  # noqa: E402

IPS_EXAMPLES = ROOT / "tests" / "terminology" / "fixtures" / "ips-examples"
#: national (US) code systems under an HL7 ``sid`` URI: not part of the European pivot, left out like the
#: Dutch G-Standaard
US_NATIONAL = frozenset({"http://hl7.org/fhir/sid/cvx", "http://hl7.org/fhir/sid/ndc"})


def is_standard(system: str) -> bool:
    return is_standard_system(system) and system not in US_NATIONAL


def standard_coverage(bundles: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"systems": {system: {"seen", "translated": {lang: n}, "untranslated"}}, "total": {...}}`` over the
    standard-system codings of ``bundles``."""
    report = terminology.coverage(bundles)
    systems = {s: v for s, v in report.items() if is_standard(s)}
    langs = terminology.SUPPORTED_LANGUAGES
    total = {"seen": sum(v["seen"] for v in systems.values()),
             "translated": {lang: sum(v["translated"].get(lang, 0) for v in systems.values()) for lang in langs}}
    return {"systems": systems, "total": total}


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}" if d else "-"


def print_codings(files: list[Path]) -> None:
    bundles = [json.loads(p.read_text(encoding="utf-8")) for p in files]
    data = standard_coverage(bundles)
    print(terminology.render_table(data["systems"]))
    total = data["total"]
    print()
    print(f"{total['seen']} standard-system codings in {len(files)} Bundle(s); translated (%):")
    print("  ".join(f"{lang} {_pct(n, total['seen'])}" for lang, n in total["translated"].items()))


def print_valuesets() -> None:
    print(valueset_table())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="FHIR Bundles (default: the HL7 IPS examples)")
    parser.add_argument("--valuesets", action="store_true", help="per MVC value set instead of per coding")
    args = parser.parse_args(argv)
    if args.valuesets:
        print_valuesets()
    else:
        print_codings(args.files or sorted(IPS_EXAMPLES.glob("*.json")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
