"""Translation at country B: displays in the reader's language on every coded element of a Bundle."""

from __future__ import annotations

from typing import Any

from ..dosage import render_dosage
from ..loader import Terminology, check_language, load
from ..systems import (
    ALLERGY_CATEGORY,
    ALLERGY_CRITICALITY,
    ALLERGY_TYPE,
    EXT_NARRATIVE_LANGUAGE,
    EXT_UNKNOWN_CODE,
    LOINC,
    REACTION_SEVERITY,
)
from .nodes import OWN_EXT, SKIP_KEYS, add_translation, is_coding, set_ext
from .report import CoverageReport

#: where a resource holds FHIR Dosage elements
_DOSAGE_KEYS = {"MedicationStatement": ("dosage",), "MedicationRequest": ("dosageInstruction",)}
_FIXED_CODES: dict[str, dict[str, str]] = {
    "AllergyIntolerance": {"criticality": ALLERGY_CRITICALITY, "type": ALLERGY_TYPE, "category": ALLERGY_CATEGORY},
}


class Translator:
    """Walks a Bundle adding translations in ``language`` (``mutate=False``: only counts, for :func:`coverage`)."""

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
            if is_coding(node):
                self.coding(node)
                return
            if "div" in node and self.mutate:
                if lang_ctx and not any(e.get("url") == EXT_NARRATIVE_LANGUAGE for e in node.get("extension", ())):
                    node.setdefault("extension", []).append({"url": EXT_NARRATIVE_LANGUAGE, "valueCode": lang_ctx})
                return
            for key, value in list(node.items()):
                if key[0] == "_" or key in SKIP_KEYS:
                    continue
                if key == "extension":
                    value = [e for e in value if not str(e.get("url", "")).startswith(OWN_EXT)]
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
                add_translation(dosage, "text", self.lang, sentence, self.lang, self.lang)

    def coding(self, c: dict[str, Any]) -> tuple[str | None, str | None, bool]:
        system, code = c["system"], c["code"]
        cov = self.report._sys(system)
        cov.seen += 1
        text, used, fell_back = self.term.display(system, code, self.lang)
        if text is None:
            cov.untranslated.add(code)
            if self.mutate:
                set_ext(c, EXT_UNKNOWN_CODE, "valueBoolean", True)
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
            add_translation(c, "display", self.lang, text, used, self.lang)
        return text, used, fell_back

    def codeable(self, cc: dict[str, Any], codings: list[Any]) -> None:
        best: tuple[str, str | None, bool] | None = None
        originals: set[str] = set()
        for c in codings:
            if isinstance(c, dict) and is_coding(c):
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
                add_translation(cc, "text", self.lang, best[0], best[1], self.lang)

    def _is_known_text(self, codings: list[Any], folded: str) -> bool:
        for c in codings:
            if isinstance(c, dict) and is_coding(c):
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
                        add_translation(s, "title", self.lang, text, used, self.lang)
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
            add_translation(owner, key, self.lang, text, used, self.lang)


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
    tr = Translator(terminology or load(), lang, source_language)
    tr.walk(bundle, bundle.get("language") or source_language)
    return bundle, tr.report
