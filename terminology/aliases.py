"""Alternative identifiers of code systems (HL7 v2/v3 OIDs, old FHIR URIs) -> canonical URI.

The shipped table ``data/system-aliases.tsv`` is generated from HL7 Terminology's NamingSystems and
CodeSystem identifiers (``python -m terminology.tools.build_aliases``); imported NPM packages add
theirs. :meth:`terminology.Terminology.canonical` applies it wherever a coding is read.
"""

from __future__ import annotations

from pathlib import Path

ALIAS_FILE = "system-aliases.tsv"
SHIPPED_DATA = Path(__file__).resolve().parent / "data"


def read_alias_table(data_dir: Path) -> dict[str, str]:
    """``{alias: canonical}`` of ``data_dir/system-aliases.tsv`` ({} when the file is absent)."""
    path = data_dir / ALIAS_FILE
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            alias, _, canonical = line.partition("\t")
            if canonical:
                out[alias] = canonical
    return out
