"""Terminology in the exchange: transcoding at country A on release, translation at country B.

The ``terminology`` library does the work; this module adds what the exchange needs around it:
a cache of released (transcoded) documents keyed by content hash, language negotiation, and the
mapping of the library's errors onto the gateway's error hierarchy.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

import terminology
from gateway import errors, timing
from terminology.model import SUPPORTED_LANGUAGES, UnknownCountryError, UnsupportedLanguageError

#: Header summarising the terminology coverage of a response (for integrators and the portal).
COVERAGE_HEADER = "X-Terminology-Coverage"


class _LRU:
    def __init__(self, size: int) -> None:
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_released = _LRU(512)


def coverage_header(report: Any) -> str:
    data = report.to_dict() if hasattr(report, "to_dict") else report
    seen = sum(v.get("seen", 0) for v in data.values())
    mapped = sum(v.get("mapped", 0) for v in data.values())
    untranslated = sum(len(v.get("untranslated", [])) for v in data.values())
    return f"codings={seen}; mapped={mapped}; untranslated={untranslated}"


@dataclass(frozen=True)
class Released:
    """A stored summary as country A sends it, with what its audit record needs."""

    body: bytes  # JSON: every national code with its pivot coding added
    coverage: str  # summary for the X-Terminology-Coverage header
    body_sha256: str  # digest of ``body`` (the bytes that leave)
    document_id: str | None  # Bundle.identifier.value


@timing.timed("transcode")
def release_document(document: bytes, sha256: str, country: str) -> Released:
    """Transcode a stored summary for release; cached by content hash (the same stored version is
    parsed, transcoded, serialised and digested once per process)."""
    key = (sha256, country)
    cached = _released.get(key)
    if cached is not None:
        return cached
    from gateway.audit.trail import document_identifier

    bundle = orjson.loads(document)
    document_id = document_identifier(bundle)
    try:
        bundle, report = terminology.transcode(bundle, country)
        summary = coverage_header(report)
    except UnknownCountryError:
        summary = "codings=0; mapped=0; untranslated=0"  # a country without national code systems
    body = orjson.dumps(bundle)
    result = Released(body, summary, hashlib.sha256(body).hexdigest(), document_id)
    _released.put(key, result)
    return result


def release(document: bytes, sha256: str, country: str) -> tuple[bytes, str]:
    """The document as country A sends it: (JSON bytes, coverage summary); see :func:`release_document`."""
    released = release_document(document, sha256, country)
    return released.body, released.coverage


def negotiate_language(requested: str | None, accept: Any, fallback: str) -> str:
    """Explicit ``language`` parameter, else the best Accept-Language, else ``fallback``."""
    if requested:
        lang = requested.strip().lower().split("-")[0]
        if lang not in SUPPORTED_LANGUAGES:
            raise errors.BadRequest(
                f"Language {requested!r} is not supported; supported: {', '.join(SUPPORTED_LANGUAGES)}.",
                code="UNSUPPORTED_LANGUAGE")
        return lang
    if accept is not None:
        best = accept.best_match(SUPPORTED_LANGUAGES)
        if best:
            return best
    return fallback if fallback in SUPPORTED_LANGUAGES else "en"


@timing.timed("translate")
def translate(bundle: dict[str, Any], language: str) -> tuple[dict[str, Any], str]:
    """Every coded entry displayed in ``language`` (originals kept); returns (bundle, coverage)."""
    try:
        bundle, report = terminology.translate(bundle, language)
    except UnsupportedLanguageError as exc:
        raise errors.BadRequest(str(exc), code="UNSUPPORTED_LANGUAGE") from None
    return bundle, coverage_header(report)
