"""Imported sources (``terminology/importers``) merged into a loaded :class:`~terminology.loader.Terminology`.

Precedence: the shipped data (curated designations, national code systems, derived designations) is
never replaced. Imported sources then fill gaps in the order of
:data:`~terminology.importers.store.KIND_ORDER` (national SNOMED CT translations, LOINC linguistic
variants, gnuhealth ICD-10 titles, FHIR NPM packages), sources of one kind by id: the first source
that has a designation for a concept and language gives it. Code systems, value sets and concept
maps the shipped data lacks are added; a ConceptMap element never replaces the targets a code
already has. Each designation an import gave is recorded in ``_provenance[system][code][lang]``, an
original display in ``_provenance[system][code][""]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .importers.store import manifests, read_content
from .model import MapTarget

if TYPE_CHECKING:
    from .loader import Terminology

#: key of ``_provenance[system][code]`` for the original display (the other keys are languages)
DISPLAY = ""


def merge(term: Terminology, root: Path) -> None:
    """Fill ``term`` with every source under ``root`` (a folder of per-source folders)."""
    loaded = [(m, read_content(Path(m.pop("folder")))) for m in manifests(root)]
    for _manifest, content in loaded:  # aliases first: a source may use another's alias URIs
        for alias, canonical in content.get("aliases", {}).items():
            term._aliases.setdefault(alias, canonical)
    for manifest, content in loaded:
        sid = manifest["id"]
        term.sources[sid] = manifest
        for url, cs in content.get("codesystems", {}).items():
            _codesystem(term, sid, term.canonical(url), cs)
        for vs in content.get("valuesets", ()):
            term._valuesets.setdefault(vs["url"], vs)
        for cm in content.get("conceptmaps", ()):
            _conceptmap(term, sid, cm)


def _codesystem(term: Terminology, sid: str, url: str, cs: dict[str, Any]) -> None:
    lang = cs.get("language") or "en"
    term._language.setdefault(url, lang)
    meta = term._codesystems.setdefault(url, {"url": url, "title": cs.get("title"), "files": []})
    meta["files"].append(f"import:{sid}")
    displays = term._display.setdefault(url, {})
    desigs = term._designations.setdefault(url, {})
    prov = term._provenance.setdefault(url, {})
    for code, text in cs.get("display", {}).items():
        if code not in displays:
            displays[code] = text
            prov.setdefault(code, {})[DISPLAY] = sid
        if lang != "en":
            target = desigs.setdefault(code, {})
            if lang not in target:
                target[lang] = text
                prov.setdefault(code, {})[lang] = sid
    for code, by_lang in cs.get("designations", {}).items():
        target = desigs.setdefault(code, {})
        for dlang, text in by_lang.items():
            if dlang not in target:
                target[dlang] = text
                prov.setdefault(code, {})[dlang] = sid


def _conceptmap(term: Terminology, sid: str, cm: dict[str, Any]) -> None:
    term._conceptmaps.setdefault(cm["url"], {"url": cm["url"], "title": cm.get("title"), "file": f"import:{sid}"})
    for group in cm.get("groups", ()):
        source, target = term.canonical(group["source"]), term.canonical(group["target"])
        index = term._maps.setdefault(source, {})
        for code, targets in group["elements"]:
            if index.get(code):
                continue  # shipped (or earlier) maps of this code win
            index[code] = [MapTarget(target, tcode, display, equivalence) for tcode, display, equivalence in targets]
