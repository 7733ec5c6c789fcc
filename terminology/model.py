"""Plain data types of the terminology package."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: languages the package offers designations for (ISO 639-1); English is the pivot language
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "es", "it", "pt", "nl", "pl")


class TerminologyError(Exception):
    """Base class of the package's errors."""


class TerminologyDataError(TerminologyError):
    """A file under the data directory is malformed; the message names the file and the element."""

    def __init__(self, path: str, element: str, problem: str) -> None:
        self.path = path
        self.element = element
        self.problem = problem
        super().__init__(f"{path}: {element}: {problem}")


class UnsupportedLanguageError(TerminologyError, ValueError):
    """A display language the package does not support was requested."""

    def __init__(self, language: str, supported: tuple[str, ...] = SUPPORTED_LANGUAGES) -> None:
        self.language = language
        self.supported = supported
        super().__init__(
            f"unsupported language {language!r}; supported languages: {', '.join(supported)}"
        )


class UnknownCountryError(TerminologyError, ValueError):
    """A country without national terminology was given."""


@dataclass(slots=True)
class Concept:
    """One concept of a code system.

    ``display`` is the display as published by the code system (English for the international
    systems, the national language for CIM-10, CIP13, ICD-10-GM and PZN); ``designations`` maps a
    language code to a display in that language; ``properties`` carries code-system properties
    (for catalogue entries also what a generator needs, see :mod:`terminology.catalogue`).
    """

    system: str
    code: str
    display: str | None = None
    designations: dict[str, str] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)

    def text(self, language: str) -> str | None:
        """Display in ``language``, falling back to English, then to the original display."""
        return self.designations.get(language) or self.designations.get("en") or self.display

    def coding(self, language: str | None = None) -> dict[str, Any]:
        """A FHIR ``Coding`` dict for this concept (display in ``language`` if given)."""
        display = self.text(language) if language else self.display
        out: dict[str, Any] = {"system": self.system, "code": self.code}
        if display:
            out["display"] = display
        return out


@dataclass(slots=True)
class MapTarget:
    """One target of a ConceptMap element (FHIR R4 ``ConceptMap.group.element.target``).

    ``attribute`` is None for a main target (the pivot concept) and, for the ``target.product``
    entries of medicinal-product maps, the product property: ``"doseForm"`` / ``"route"`` (EDQM
    codings) or ``"strength"`` (``code`` holds the strength text, ``system`` is empty).
    """

    system: str
    code: str
    display: str | None
    equivalence: str
    attribute: str | None = None
    comment: str | None = None


class UnknownValueSetError(TerminologyError, KeyError):
    """No value set with this canonical URL is loaded."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"unknown value set {url!r}")

    def __str__(self) -> str:
        return self.args[0]
