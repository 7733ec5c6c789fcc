"""ncpeh-gateway terminology: a pure library (no web framework) for the cross-border patient summary.

- :func:`load` -> :class:`Terminology` (cached): ``lookup``, ``display``, ``map_targets``,
  ``translate_code`` ($translate), ``expand`` ($expand) over the FHIR CodeSystem / ValueSet /
  ConceptMap resources in ``terminology/data/``;
- :func:`transcode` (country A: national codes -> eHDSI pivot codes, originals kept);
- :func:`translate` (country B: displays in the clinician's language, with fallback flags);
- :func:`coverage` / :func:`render_table` (coverage report);
- :mod:`terminology.catalogue` (code lists for the synthetic population);
- :mod:`terminology.systems` (code-system URIs and extension URLs).
"""

from __future__ import annotations

from .bundles import CoverageReport, SystemCoverage, coverage, render_table, transcode, translate
from .loader import Terminology, check_language, clear_cache, env_extra_dirs, load
from .model import (
    SUPPORTED_LANGUAGES,
    Concept,
    MapTarget,
    TerminologyDataError,
    TerminologyError,
    UnknownCountryError,
    UnknownValueSetError,
    UnsupportedLanguageError,
)

__all__ = [
    "SUPPORTED_LANGUAGES",
    "Concept",
    "CoverageReport",
    "MapTarget",
    "SystemCoverage",
    "Terminology",
    "TerminologyDataError",
    "TerminologyError",
    "UnknownCountryError",
    "UnknownValueSetError",
    "UnsupportedLanguageError",
    "check_language",
    "clear_cache",
    "coverage",
    "env_extra_dirs",
    "load",
    "render_table",
    "transcode",
    "translate",
]
