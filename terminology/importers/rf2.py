"""SNOMED CT RF2 description files: how a country holding a SNOMED CT licence brings its translation.

``sct2_Description_Snapshot-<lang>_<namespace>_<date>.txt`` (tab-separated, UTF-8) gives the terms;
with the language reference set ``der2_cRefset_LanguageSnapshot-<lang>_*.txt`` of the same release,
the preferred synonym (acceptability 900000000000548007) of each concept and language is taken;
without it, the first active synonym. Only active rows; fully specified names are not displays. Only
Snapshot files are read (a release folder also holds Full and Delta files, which are skipped).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..systems import SNOMED
from .store import Content, ImportRefused, Source, decode_lines, slug

DESCRIPTION_COLUMNS = ["id", "effectiveTime", "active", "moduleId", "conceptId", "languageCode", "typeId", "term",
                       "caseSignificanceId"]
REFSET_COLUMNS = ["id", "effectiveTime", "active", "moduleId", "refsetId", "referencedComponentId", "acceptabilityId"]
SYNONYM = "900000000000013009"
FSN = "900000000000003001"
PREFERRED = "900000000000548007"
DESCRIPTION_NAME = re.compile(r"^sct2_Description_Snapshot-([A-Za-z-]+)_(\w+?)_(\d{8})\.txt$")
REFSET_NAME = re.compile(r"^der2_cRefset_LanguageSnapshot-([A-Za-z-]+)_(\w+?)_(\d{8})\.txt$")


def is_description(path: Path) -> bool:
    return bool(DESCRIPTION_NAME.match(path.name))


def is_language_refset(path: Path) -> bool:
    return bool(REFSET_NAME.match(path.name))


def _rows(path: Path, columns: list[str]) -> list[tuple[int, list[str]]]:
    text = decode_lines(path, path.read_bytes())
    lines = text.split("\n")
    header = lines[0].rstrip("\r").split("\t")
    if header != columns:
        raise ImportRefused(path, f"unexpected columns {header[:10]}; expected {' '.join(columns)}", 1)
    out = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(columns):
            raise ImportRefused(path, f"{len(fields)} tab-separated fields, expected {len(columns)}", number)
        out.append((number, fields))
    return out


def convert(descriptions: Path, refsets: list[Path] | None = None, licence: str | None = None) -> Source:
    """The designations of one description file (and the language reference sets given)."""
    match = DESCRIPTION_NAME.match(descriptions.name)
    if not match:
        raise ImportRefused(descriptions, "not an RF2 description file name (sct2_Description_Snapshot-<lang>_<ns>_<date>.txt)")
    tag, namespace, date = match.groups()
    preferred: set[str] = set()
    for refset in refsets or ():
        for number, f in _rows(refset, REFSET_COLUMNS):
            if f[2] not in ("0", "1"):
                raise ImportRefused(refset, f"'active' must be 0 or 1, got {f[2]!r}", number)
            if f[2] == "1" and f[6] == PREFERRED:
                preferred.add(f[5])
    chosen: dict[tuple[str, str], str] = {}
    for number, f in _rows(descriptions, DESCRIPTION_COLUMNS):
        if f[2] not in ("0", "1"):
            raise ImportRefused(descriptions, f"'active' must be 0 or 1, got {f[2]!r}", number)
        if f[2] != "1" or f[6] != SYNONYM or not f[7]:
            continue
        key = (f[4], f[5].lower())
        if refsets:
            if f[0] in preferred:
                chosen[key] = f[7]
        else:
            chosen.setdefault(key, f[7])
    content = Content()
    cs = content.system(SNOMED, "SNOMED CT")
    for (concept, lang), term in sorted(chosen.items()):
        cs["designations"].setdefault(concept, {})[lang] = term
    return Source(id=slug(f"snomed-{tag}-{namespace}-{date}"), kind="rf2",
                  name=f"SNOMED CT {tag} (namespace {namespace})", version=date,
                  licence=licence or "SNOMED CT Affiliate Licence (national release; not redistributable)",
                  inputs=[descriptions, *(refsets or [])], content=content)
