"""Transcoding (country A) and translation (country B) of IPS document Bundles, plus coverage.

Both operations walk *every* element of *every* resource of the Bundle (recursively, no fixed
paths): a dict with a ``coding`` array is a CodeableConcept, a dict with string ``system`` and
``code`` (and no ``value``, which would make it a Quantity) is a Coding, a dict with ``div`` is a
Narrative.  The Bundle is modified in place and also returned.  Nothing is ever removed.

Extensions written (URLs in :mod:`terminology.systems`):

- ``EXT_TRANSCODED`` (valueCode = ConceptMap equivalence) on each Coding added by transcoding, including
  the canonical Coding added next to one whose system is an alias URI (``urn:oid:2.16.840.1.113883.6.96``
  -> ``http://snomed.info/sct``, valueCode ``equal``; the original Coding is kept unchanged);
- ``EXT_UNMAPPED`` (valueCode ``no-map`` | ``unknown-code``) on a national Coding without a
  pivot mapping, or on a Coding of an unknown system/code when no sibling Coding is known; never on
  a Coding of an international or HL7 code system (``systems.is_standard_system``): that is a
  European code already, and one the catalogue lacks is only "not translated" at country B;
- ``EXT_MAP_ATTRIBUTE`` on a medicinal-product CodeableConcept: sub-extensions ``doseForm`` and
  ``route`` (valueCoding, EDQM) and ``strength`` (valueString) from the ConceptMap ``product``;
- the standard ``translation`` extension (``lang``, ``content``) on ``_display`` / ``_text`` /
  ``_title`` and on the ``_`` element of fixed AllergyIntolerance codes; when the requested
  language was missing, it carries the language actually used and a sub-extension
  ``EXT_TRANSLATION_FALLBACK`` (valueCode = requested language);
- ``EXT_UNKNOWN_CODE`` (valueBoolean) on a Coding unknown to the terminology at translation time;
- the standard ``language`` extension on each Narrative (``text``), whose ``div`` is left as is;
- the standard ``translation`` extension on ``_text`` of each structured ``Dosage``
  (``MedicationStatement.dosage``, ``MedicationRequest.dosageInstruction``): the sentence rendered
  from its structured elements in the reader's language (:mod:`terminology.dosage`); ``text`` stays
  the original, and a Dosage with free text only gets nothing (it stays in its language).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .dosage import render_dosage
from .loader import Terminology, check_language, load
from .model import SUPPORTED_LANGUAGES, UnknownCountryError
from .systems import (
    ALLERGY_CATEGORY,
    ALLERGY_CRITICALITY,
    ALLERGY_TYPE,
    EXT_MAP_ATTRIBUTE,
    EXT_NARRATIVE_LANGUAGE,
    EXT_TRANSCODED,
    EXT_TRANSLATION,
    EXT_TRANSLATION_FALLBACK,
    EXT_UNKNOWN_CODE,
    EXT_UNMAPPED,
    LOINC,
    NATIONAL_SYSTEMS,
    NCPEH_SD,
    REACTION_SEVERITY,
    is_standard_system,
)

# ----------------------------------------------------------------------------------- coverage


@dataclass(slots=True)
class SystemCoverage:
    seen: int = 0
    mapped: int = 0
    translated: dict[str, int] = field(default_factory=dict)
    untranslated: set[str] = field(default_factory=set)
    unmapped: set[str] = field(default_factory=set)


@dataclass(slots=True)
class CoverageReport:
    """Per code system: codings seen, mapped (national code with a pivot map, or a known pivot
    code), translated per language (a designation in that very language), and the codes left
    untranslated / unmapped."""

    systems: dict[str, SystemCoverage] = field(default_factory=dict)

    def _sys(self, system: str) -> SystemCoverage:
        cov = self.systems.get(system)
        if cov is None:
            cov = self.systems[system] = SystemCoverage()
        return cov

    @property
    def unmapped(self) -> list[tuple[str, str]]:
        return sorted((s, c) for s, cov in self.systems.items() for c in cov.unmapped)

    @property
    def untranslated(self) -> list[tuple[str, str]]:
        return sorted((s, c) for s, cov in self.systems.items() for c in cov.untranslated)

    def merge(self, other: CoverageReport) -> CoverageReport:
        for system, o in other.systems.items():
            cov = self._sys(system)
            cov.seen += o.seen
            cov.mapped += o.mapped
            for lang, n in o.translated.items():
                cov.translated[lang] = cov.translated.get(lang, 0) + n
            cov.untranslated |= o.untranslated
            cov.unmapped |= o.unmapped
        return self

    def to_dict(self) -> dict[str, Any]:
        """``{"<system>": {"seen": n, "mapped": n, "translated": {"<lang>": n}, "untranslated": [codes]}}``"""
        return {
            system: {
                "seen": cov.seen,
                "mapped": cov.mapped,
                "translated": dict(sorted(cov.translated.items())),
                "untranslated": sorted(cov.untranslated),
            }
            for system, cov in sorted(self.systems.items())
        }


def render_table(coverage: dict[str, Any] | CoverageReport) -> str:
    """A plain-text table of a coverage dict (as returned by :func:`coverage`)."""
    data = coverage.to_dict() if isinstance(coverage, CoverageReport) else coverage
    langs = sorted({lang for v in data.values() for lang in v["translated"]})
    header = ["system", "seen", "mapped", *langs, "untranslated"]
    rows = []
    for system, v in data.items():
        missing = v["untranslated"]
        shown = ", ".join(missing[:6]) + (f" (+{len(missing) - 6})" if len(missing) > 6 else "")
        rows.append([system, str(v["seen"]), str(v["mapped"]),
                     *(str(v["translated"].get(lang, 0)) for lang in langs), shown])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- helpers

_OWN_EXT = (NCPEH_SD, EXT_TRANSLATION, EXT_NARRATIVE_LANGUAGE)
#: where a resource holds FHIR Dosage elements
_DOSAGE_KEYS = {"MedicationStatement": ("dosage",), "MedicationRequest": ("dosageInstruction",)}
_SKIP_KEYS = frozenset({"div", "resourceType", "id", "fullUrl", "reference", "url"})
_FIXED_CODES: dict[str, dict[str, str]] = {
    "AllergyIntolerance": {"criticality": ALLERGY_CRITICALITY, "type": ALLERGY_TYPE, "category": ALLERGY_CATEGORY},
}


def _is_coding(node: dict[str, Any]) -> bool:
    return isinstance(node.get("code"), str) and isinstance(node.get("system"), str) and "value" not in node


def _set_ext(holder: dict[str, Any], url: str, value_key: str, value: Any) -> None:
    exts = holder.setdefault("extension", [])
    for ext in exts:
        if ext.get("url") == url:
            ext.pop("valueBoolean", None)
            ext.pop("valueCode", None)
            ext[value_key] = value
            return
    exts.append({"url": url, value_key: value})


def _add_translation(
    owner: dict[str, Any], key: str, lang: str, text: str, used: str | None, requested: str
) -> None:
    """Add/replace the translation extension for ``requested`` on the primitive ``owner[key]``."""
    holder = owner.get(f"_{key}")
    if not isinstance(holder, dict):
        holder = owner[f"_{key}"] = {}
    exts = holder.setdefault("extension", [])
    parts: list[dict[str, Any]] = [{"url": "lang", "valueCode": used if used and used != requested else lang},
                                   {"url": "content", "valueString": text}]
    if used != requested:
        parts.append({"url": EXT_TRANSLATION_FALLBACK, "valueCode": requested})
    new = {"url": EXT_TRANSLATION, "extension": parts}
    for i, ext in enumerate(exts):
        if ext.get("url") == EXT_TRANSLATION and _requested_lang(ext) == requested:
            exts[i] = new
            return
    exts.append(new)


def _requested_lang(ext: dict[str, Any]) -> str | None:
    lang = None
    for sub in ext.get("extension", ()):
        if sub.get("url") == EXT_TRANSLATION_FALLBACK:
            return sub.get("valueCode")
        if sub.get("url") == "lang":
            lang = sub.get("valueCode")
    return lang


# ----------------------------------------------------------------------------------- transcode


def _canonical_coding(coding: dict[str, Any], canonical: str) -> dict[str, Any]:
    """The coding under its canonical system URI, marked as added by transcoding (equivalence ``equal``);
    the coding with the alias URI stays as it was."""
    new: dict[str, Any] = {"system": canonical, "code": coding["code"]}
    if coding.get("display"):
        new["display"] = coding["display"]
    new["extension"] = [{"url": EXT_TRANSCODED, "valueCode": "equal"}]
    return new


class _Transcoder:
    def __init__(self, term: Terminology, country: str) -> None:
        self.term = term
        self.national = set(NATIONAL_SYSTEMS[country].values())
        self.report = CoverageReport()

    def walk(self, node: Any, parent: dict[str, Any] | None = None) -> None:
        if isinstance(node, dict):
            coding = node.get("coding")
            if isinstance(coding, list):
                self.codeable(node, coding, parent)
                return
            if _is_coding(node):
                self.bare_coding(node)
                return
            for key, value in list(node.items()):
                if key[0] == "_" or key in _SKIP_KEYS:
                    continue
                if key == "extension":
                    value = [e for e in value if not str(e.get("url", "")).startswith(_OWN_EXT)]
                if isinstance(value, dict | list):
                    self.walk(value, node)
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, dict | list):
                    self.walk(item, parent)

    def codeable(self, cc: dict[str, Any], codings: list[Any], parent: dict[str, Any] | None) -> None:
        term = self.term
        present = {(c.get("system"), c.get("code")) for c in codings if isinstance(c, dict)}
        added: list[dict[str, Any]] = []
        unknown: list[dict[str, Any]] = []
        any_known = False
        for c in codings:
            if not isinstance(c, dict) or not _is_coding(c):
                continue
            system, code = c["system"], c["code"]
            cov = self.report._sys(system)
            cov.seen += 1
            canonical = term.canonical(system)
            if canonical != system and term.knows(canonical, code) and (canonical, code) not in present:
                present.add((canonical, code))  # an alias URI (urn:oid:..., old FHIR URI): add the canonical coding
                added.append(_canonical_coding(c, canonical))
            if canonical in self.national:
                targets = term.map_targets(system, code)
                main = [t for t in targets if not t.attribute]
                if not main:
                    cov.unmapped.add(code)
                    _set_ext(c, EXT_UNMAPPED, "valueCode", "no-map")
                    continue
                cov.mapped += 1
                any_known = True
                for t in main:
                    if (t.system, t.code) in present:
                        continue
                    present.add((t.system, t.code))
                    new: dict[str, Any] = {"system": t.system, "code": t.code}
                    if t.display:
                        new["display"] = t.display
                    new["extension"] = [{"url": EXT_TRANSCODED, "valueCode": t.equivalence}]
                    added.append(new)
                    self.report._sys(t.system)  # make pivot systems visible in the report
                attrs = [t for t in targets if t.attribute]
                if attrs:
                    self.product(cc, attrs, parent)
            elif term.knows(system, code):
                cov.mapped += 1
                any_known = True
            elif not is_standard_system(canonical):  # an alias of SNOMED CT is a European code too
                unknown.append(c)
        for c in unknown:
            if not any_known:
                self.report._sys(c["system"]).unmapped.add(c["code"])
                _set_ext(c, EXT_UNMAPPED, "valueCode", "unknown-code")
        codings.extend(added)

    def product(self, cc: dict[str, Any], attrs: list[Any], parent: dict[str, Any] | None) -> None:
        sub: list[dict[str, Any]] = []
        for t in attrs:
            if t.attribute == "strength":
                sub.append({"url": "strength", "valueString": t.code})
            else:
                coding = {"system": t.system, "code": t.code}
                if t.display:
                    coding["display"] = t.display
                sub.append({"url": t.attribute, "valueCoding": coding})
                if t.attribute == "doseForm" and parent is not None and parent.get("resourceType") == "Medication" \
                        and parent.get("code") is cc and "form" not in parent:
                    parent["form"] = {"coding": [dict(coding)]}
        exts = cc.setdefault("extension", [])
        exts[:] = [e for e in exts if e.get("url") != EXT_MAP_ATTRIBUTE]
        exts.append({"url": EXT_MAP_ATTRIBUTE, "extension": sub})

    def bare_coding(self, c: dict[str, Any]) -> None:
        system, code = c["system"], c["code"]
        cov = self.report._sys(system)
        cov.seen += 1
        if self.term.canonical(system) in self.national:
            main = [t for t in self.term.map_targets(system, code) if not t.attribute]
            if main:
                cov.mapped += 1
            else:
                cov.unmapped.add(code)
                _set_ext(c, EXT_UNMAPPED, "valueCode", "no-map")
        elif self.term.knows(system, code):
            cov.mapped += 1


def transcode(
    bundle: dict[str, Any], source_country: str, terminology: Terminology | None = None
) -> tuple[dict[str, Any], CoverageReport]:
    """Add the pivot coding next to every national coding of ``bundle`` (in place; returned).

    ``source_country`` is the ISO 3166-1 alpha-2 code of the sending country (FR, DE, IT).
    """
    country = source_country.upper()
    if country not in NATIONAL_SYSTEMS:
        raise UnknownCountryError(
            f"no national terminology for country {source_country!r}; known: {', '.join(sorted(NATIONAL_SYSTEMS))}"
        )
    tx = _Transcoder(terminology or load(), country)
    tx.walk(bundle)
    return bundle, tx.report


# ----------------------------------------------------------------------------------- translate


class _Translator:
    def __init__(self, term: Terminology, language: str, source_language: str | None, mutate: bool = True) -> None:
        self.term = term
        self.lang = language
        self.source_language = source_language
        self.mutate = mutate
        self.report = CoverageReport()

    def walk(self, node: Any, lang_ctx: str | None) -> None:
        if isinstance(node, dict):
            rtype = node.get("resourceType")
            if rtype:
                lang_ctx = node.get("language") or lang_ctx
                fixed = _FIXED_CODES.get(rtype)
                if fixed and self.mutate:
                    self.fixed_codes(node, fixed)
                if rtype == "Composition":
                    self.sections(node.get("section"))
            coding = node.get("coding")
            if isinstance(coding, list):
                self.codeable(node, coding)
                return
            if _is_coding(node):
                self.coding(node)
                return
            if "div" in node and self.mutate:
                if lang_ctx and not any(e.get("url") == EXT_NARRATIVE_LANGUAGE for e in node.get("extension", ())):
                    node.setdefault("extension", []).append({"url": EXT_NARRATIVE_LANGUAGE, "valueCode": lang_ctx})
                return
            for key, value in list(node.items()):
                if key[0] == "_" or key in _SKIP_KEYS:
                    continue
                if key == "extension":
                    value = [e for e in value if not str(e.get("url", "")).startswith(_OWN_EXT)]
                elif key in _DOSAGE_KEYS.get(rtype, ()) and isinstance(value, list) and self.mutate:
                    self.dosages(value)
                elif key == "reaction" and rtype == "AllergyIntolerance" and self.mutate:
                    for r in value:
                        if isinstance(r, dict) and isinstance(r.get("severity"), str):
                            self.fixed(r, "severity", REACTION_SEVERITY, r["severity"])
                if isinstance(value, dict | list):
                    self.walk(value, lang_ctx)
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, dict | list):
                    self.walk(item, lang_ctx)

    def dosages(self, dosages: list[Any]) -> None:
        for dosage in dosages:
            sentence = render_dosage(dosage, self.lang, self.term) if isinstance(dosage, dict) else None
            if sentence:
                _add_translation(dosage, "text", self.lang, sentence, self.lang, self.lang)

    def coding(self, c: dict[str, Any]) -> tuple[str | None, str | None, bool]:
        system, code = c["system"], c["code"]
        cov = self.report._sys(system)
        cov.seen += 1
        text, used, fell_back = self.term.display(system, code, self.lang)
        if text is None:
            cov.untranslated.add(code)
            if self.mutate:
                _set_ext(c, EXT_UNKNOWN_CODE, "valueBoolean", True)
            return None, None, True
        cov.mapped += 1
        if fell_back:
            cov.untranslated.add(code)
        else:
            cov.translated[self.lang] = cov.translated.get(self.lang, 0) + 1
        if self.mutate:
            if not c.get("display"):
                original = self.term._display.get(self.term.canonical(system), {}).get(code) or text
                c["display"] = original
            _add_translation(c, "display", self.lang, text, used, self.lang)
        return text, used, fell_back

    def codeable(self, cc: dict[str, Any], codings: list[Any]) -> None:
        best: tuple[str, str | None, bool] | None = None
        originals: set[str] = set()
        for c in codings:
            if isinstance(c, dict) and _is_coding(c):
                if c.get("display"):
                    originals.add(c["display"].casefold())
                text, used, fell_back = self.coding(c)
                if text and (best is None or (best[2] and not fell_back)):
                    best = (text, used, fell_back)
        if not self.mutate:
            return
        text = cc.get("text")
        if best and isinstance(text, str):
            folded = text.casefold()
            if folded in originals or self._is_known_text(codings, folded):
                _add_translation(cc, "text", self.lang, best[0], best[1], self.lang)

    def _is_known_text(self, codings: list[Any], folded: str) -> bool:
        for c in codings:
            if isinstance(c, dict) and _is_coding(c):
                concept = self.term.lookup(c["system"], c["code"])
                if concept and any(d.casefold() == folded for d in concept.designations.values()):
                    return True
        return False

    def sections(self, sections: Any) -> None:
        if not isinstance(sections, list) or not self.mutate:
            return
        for s in sections:
            if not isinstance(s, dict):
                continue
            codings = (s.get("code") or {}).get("coding") or []
            for c in codings:
                if isinstance(c, dict) and isinstance(c.get("system"), str) and self.term.canonical(c["system"]) == LOINC \
                        and isinstance(c.get("code"), str):
                    text, used, _fb = self.term.display(LOINC, c["code"], self.lang)
                    if text:
                        if "title" not in s:
                            s["title"] = self.term._display.get(LOINC, {}).get(c["code"], text)
                        _add_translation(s, "title", self.lang, text, used, self.lang)
                    break
            self.sections(s.get("section"))

    def fixed_codes(self, resource: dict[str, Any], fixed: dict[str, str]) -> None:
        for key, system in fixed.items():
            value = resource.get(key)
            if isinstance(value, str):
                self.fixed(resource, key, system, value)
            elif isinstance(value, list):
                holder = resource.get(f"_{key}")
                if not isinstance(holder, list) or len(holder) != len(value):
                    holder = resource[f"_{key}"] = [None] * len(value)
                for i, v in enumerate(value):
                    if isinstance(v, str):
                        box = {"v": v, "_v": holder[i]} if holder[i] else {"v": v}
                        self.fixed(box, "v", system, v)
                        holder[i] = box.get("_v")

    def fixed(self, owner: dict[str, Any], key: str, system: str, code: str) -> None:
        text, used, _fb = self.term.display(system, code, self.lang)
        if text:
            _add_translation(owner, key, self.lang, text, used, self.lang)


def translate(
    bundle: dict[str, Any],
    language: str,
    terminology: Terminology | None = None,
    source_language: str | None = None,
) -> tuple[dict[str, Any], CoverageReport]:
    """Add the display in ``language`` to every coded element of ``bundle`` (in place; returned).

    Raises :class:`~terminology.model.UnsupportedLanguageError` (listing the supported languages)
    for an unsupported ``language``.  Narratives are marked with the language of their resource
    (``Resource.language``, else the Bundle's, else ``source_language``) and never translated.
    """
    lang = check_language(language)
    tr = _Translator(terminology or load(), lang, source_language)
    tr.walk(bundle, bundle.get("language") or source_language)
    return bundle, tr.report


def coverage(
    bundles: Iterable[dict[str, Any]],
    languages: Iterable[str] | None = None,
    source_country: str | None = None,
    terminology: Terminology | None = None,
) -> dict[str, Any]:
    """Coverage of ``bundles`` (not modified) in the JSON shape used by scripts::

        {"<system>": {"seen": n, "mapped": n, "translated": {"<lang>": n}, "untranslated": [codes]}}

    ``seen`` counts codings; ``mapped`` counts national codings with a pivot mapping (when
    ``source_country`` is given) or codings known to the terminology; ``translated`` counts, per
    language, the codings with a designation in that very language; ``untranslated`` lists codes
    lacking one in at least one of ``languages`` (default: all supported languages).
    """
    term = terminology or load()
    langs = [check_language(x) for x in (languages or SUPPORTED_LANGUAGES)]
    total = CoverageReport()
    for bundle in bundles:
        mapped = CoverageReport()
        if source_country:
            country = source_country.upper()
            if country not in NATIONAL_SYSTEMS:
                raise UnknownCountryError(f"no national terminology for country {source_country!r}")
            national = set(NATIONAL_SYSTEMS[country].values())
        else:
            national = set()
        per_lang: list[CoverageReport] = []
        for lang in langs:
            tr = _Translator(term, lang, None, mutate=False)
            tr.walk(bundle, None)
            per_lang.append(tr.report)
        first = per_lang[0] if per_lang else CoverageReport()
        for system, cov in first.systems.items():
            m = mapped._sys(system)
            m.seen = cov.seen
            m.mapped = cov.mapped
        if national:
            # mapped for national systems = has a pivot map (not merely a known national code)
            for system in first.systems:
                if system in national:
                    mapped._sys(system).mapped = 0
            _count_national(bundle, national, term, mapped)
        for rep in per_lang:
            for system, cov in rep.systems.items():
                m = mapped._sys(system)
                for lang, n in cov.translated.items():
                    m.translated[lang] = m.translated.get(lang, 0) + n
                m.untranslated |= cov.untranslated
        for system in mapped.systems.values():
            for lang in langs:
                system.translated.setdefault(lang, 0)
        total.merge(mapped)
    return total.to_dict()


def _count_national(node: Any, national: set[str], term: Terminology, report: CoverageReport) -> None:
    if isinstance(node, dict):
        if _is_coding(node) and node["system"] in national:
            if any(not t.attribute for t in term.map_targets(node["system"], node["code"])):
                report._sys(node["system"]).mapped += 1
            return
        for key, value in node.items():
            if key[0] != "_" and isinstance(value, dict | list):
                _count_national(value, national, term, report)
    elif isinstance(node, list):
        for item in node:
            _count_national(item, national, term, report)
