"""The coverage report of a transcoding, a translation or a survey: per code system, what was seen, mapped, translated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class SystemCoverage:
    """The counts and the codes left over of one code system."""

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
