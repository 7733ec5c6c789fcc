"""The coverage of Bundles, not modified: what is mapped to the pivot and translated, per language."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..loader import Terminology, check_language, load
from ..model import SUPPORTED_LANGUAGES, UnknownCountryError
from ..systems import NATIONAL_SYSTEMS
from .nodes import is_coding
from .report import CoverageReport
from .translation import Translator


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
            tr = Translator(term, lang, None, mutate=False)
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
    """Count the national codings of ``node`` that have a pivot map."""
    if isinstance(node, dict):
        if is_coding(node) and node["system"] in national:
            if any(not t.attribute for t in term.map_targets(node["system"], node["code"])):
                report._sys(node["system"]).mapped += 1
            return
        for key, value in node.items():
            if key[0] != "_" and isinstance(value, dict | list):
                _count_national(value, national, term, report)
    elif isinstance(node, list):
        for item in node:
            _count_national(item, national, term, report)
