"""Plain-text report of how far the catalogue translates each eHDSI MVC value set, per language.

``valueset_table()`` renders :meth:`terminology.Terminology.valueset_coverage` as a table (one row per value
set: concepts, concepts with a designation in each language, and an ``all`` row); used by
``ncpeh terminology valuesets`` and ``benchmarks/terminology_coverage.py --valuesets``.
"""

from __future__ import annotations

from collections.abc import Iterable

from .loader import Terminology, check_language, load
from .model import SUPPORTED_LANGUAGES

#: value sets of the project itself (catalogue ValueSets), left out unless asked for
PROJECT_PREFIX = "http://ncpeh.example.eu/"


def valueset_rows(term: Terminology | None = None, languages: Iterable[str] | None = None,
                  include_project: bool = False) -> list[tuple[str, int, dict[str, int]]]:
    """``[(title, concepts, {lang: translated})]`` per value set, sorted by title."""
    term = term or load()
    langs = [check_language(x) for x in (languages or SUPPORTED_LANGUAGES)]
    rows = [(v["title"] or url, v["concepts"], v["translated"])
            for url, v in term.valueset_coverage(langs).items()
            if include_project or not url.startswith(PROJECT_PREFIX)]
    return sorted(rows, key=lambda r: r[0].lower())


def valueset_table(term: Terminology | None = None, languages: Iterable[str] | None = None,
                   include_project: bool = False) -> str:
    rows = valueset_rows(term, languages, include_project)
    langs = list(rows[0][2]) if rows else [check_language(x) for x in (languages or SUPPORTED_LANGUAGES)]
    width = max([len("value set"), *(len(r[0]) for r in rows)])
    lines = [f"{'value set'.ljust(width)}  {'concepts':>8}  " + "  ".join(f"{lang:>6}" for lang in langs)]
    lines.append("-" * len(lines[0]))
    for title, n, tr in rows:
        lines.append(f"{title.ljust(width)}  {n:>8}  " + "  ".join(f"{tr[lang]:>6}" for lang in langs))
    total = sum(r[1] for r in rows)
    lines.append(f"{'all'.ljust(width)}  {total:>8}  "
                 + "  ".join(f"{sum(r[2][lang] for r in rows):>6}" for lang in langs))
    return "\n".join(lines)
