"""Transcoding at country A: the eHDSI pivot coding added next to every national coding of a Bundle."""

from __future__ import annotations

from typing import Any

from ..loader import Terminology, load
from ..model import UnknownCountryError
from ..systems import EXT_MAP_ATTRIBUTE, EXT_TRANSCODED, EXT_UNMAPPED, NATIONAL_SYSTEMS, is_standard_system
from .nodes import OWN_EXT, SKIP_KEYS, is_coding, set_ext
from .report import CoverageReport


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
            if is_coding(node):
                self.bare_coding(node)
                return
            for key, value in list(node.items()):
                if key[0] == "_" or key in SKIP_KEYS:
                    continue
                if key == "extension":
                    value = [e for e in value if not str(e.get("url", "")).startswith(OWN_EXT)]
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
            if not isinstance(c, dict) or not is_coding(c):
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
                    set_ext(c, EXT_UNMAPPED, "valueCode", "no-map")
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
                set_ext(c, EXT_UNMAPPED, "valueCode", "unknown-code")
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
                set_ext(c, EXT_UNMAPPED, "valueCode", "no-map")
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
