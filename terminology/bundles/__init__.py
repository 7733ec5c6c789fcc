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

Modules: ``report`` (:class:`CoverageReport`), ``nodes`` (what both walks share), ``transcoding``,
``translation``, ``measure`` (:func:`coverage`).
"""

from __future__ import annotations

from .measure import coverage
from .report import CoverageReport, SystemCoverage, render_table
from .transcoding import transcode
from .translation import translate

__all__ = ["CoverageReport", "SystemCoverage", "coverage", "render_table", "transcode", "translate"]
