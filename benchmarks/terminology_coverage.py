"""How much of a set of patient summaries the shipped catalogue translates, per code system and language.

    python benchmarks/terminology_coverage.py                 # the HL7 IPS 2.0.0 example Bundles (test fixtures)
    python benchmarks/terminology_coverage.py FILE.json ...   # other FHIR Bundles
    python benchmarks/terminology_coverage.py --real-world    # third-party summaries (fixtures/real-world/)
    python benchmarks/terminology_coverage.py DIR --gaps 40   # all *.json of DIR; the 40 most frequent gaps
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
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import terminology  # noqa: E402
from terminology.coverage_report import valueset_table  # noqa: E402
from terminology.systems import is_standard_system  # noqa: E402

IPS_EXAMPLES = ROOT / "tests" / "terminology" / "fixtures" / "ips-examples"
#: held-out third-party summaries and reports (not a source of the catalogue; see its README.md)
REAL_WORLD = ROOT / "tests" / "terminology" / "fixtures" / "real-world"
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


def bundle_files(paths: list[Path]) -> list[Path]:
    """The files named, and the ``*.json`` files of the folders named (sorted)."""
    out: list[Path] = []
    for path in paths:
        out += sorted(path.glob("*.json")) if path.is_dir() else [path]
    return out


def per_language_table(systems: dict[str, Any]) -> str:
    """Per code system: codings seen and the share translated (%) per language."""
    langs = terminology.SUPPORTED_LANGUAGES
    header = ["system", "seen", *langs]
    rows = [[system, str(v["seen"]), *(_pct(v["translated"].get(lang, 0), v["seen"]) for lang in langs)]
            for system, v in sorted(systems.items(), key=lambda kv: -kv[1]["seen"])]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.rjust(widths[i]) if i else c.ljust(widths[i]) for i, c in enumerate(r)) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def gaps(bundles: list[dict[str, Any]], term: Any = None) -> Counter:
    """``{(system, code, display in the document): n}``: standard-system codings lacking a designation in at
    least one supported language, counted over ``bundles`` (Quantity units are not codings here, as in
    :func:`terminology.coverage`)."""
    term = term or terminology.load()
    found: Counter = Counter()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            system, code = node.get("system"), node.get("code")
            if isinstance(system, str) and isinstance(code, str) and "value" not in node and is_standard(system):
                if any(term.display(system, code, lang)[1] != lang for lang in terminology.SUPPORTED_LANGUAGES):
                    found[(system, code, node.get("display") or "")] += 1
            for key, value in node.items():
                if key != "div":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for bundle in bundles:
        walk(bundle)
    return found


def print_codings(files: list[Path], n_gaps: int = 0) -> None:
    bundles = [json.loads(p.read_text(encoding="utf-8")) for p in files]
    data = standard_coverage(bundles)
    print(terminology.render_table(data["systems"]))
    print()
    print(per_language_table(data["systems"]))
    total = data["total"]
    print()
    print(f"{total['seen']} standard-system codings in {len(files)} Bundle(s); translated (%):")
    print("  ".join(f"{lang} {_pct(n, total['seen'])}" for lang, n in total["translated"].items()))
    if n_gaps:
        print()
        print(f"most frequent codings not translated in every language (top {n_gaps}):")
        for (system, code, display), n in gaps(bundles).most_common(n_gaps):
            print(f"{n:4}  {system}  {code}  {display}")


def print_valuesets() -> None:
    print(valueset_table())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path,
                        help="FHIR Bundles or folders of them (default: the HL7 IPS examples)")
    parser.add_argument("--real-world", action="store_true", help="the held-out third-party set (fixtures/real-world/)")
    parser.add_argument("--gaps", type=int, default=0, metavar="N", help="list the N most frequent untranslated codings")
    parser.add_argument("--valuesets", action="store_true", help="per MVC value set instead of per coding")
    args = parser.parse_args(argv)
    if args.valuesets:
        print_valuesets()
    else:
        default = [REAL_WORLD] if args.real_world else [IPS_EXAMPLES]
        print_codings(bundle_files(args.files or default), args.gaps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
