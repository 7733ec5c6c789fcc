"""Terminology in the exchange: transcoding at country A on release, translation at country B.

The ``terminology`` library does the work; this module adds what the exchange needs around it:
a cache of released (transcoded) documents keyed by content hash at country A, a cache of translated
documents keyed by content hash and language at country B, language negotiation, and the mapping of
the library's errors onto the gateway's error hierarchy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

import terminology
from gateway import errors, timing
from gateway.audit.chain import document_identifier
from gateway.services.caches import BoundedCache
from terminology.model import SUPPORTED_LANGUAGES, UnknownCountryError, UnsupportedLanguageError

#: Header summarising the terminology coverage of a response (for integrators and the portal).
COVERAGE_HEADER = "X-Terminology-Coverage"
#: Folder of the data directory where ``ncpeh terminology import`` puts sources and every process loads them.
IMPORT_FOLDER = "terminology"


def import_dir(data_dir: Path) -> Path:
    return data_dir / IMPORT_FOLDER


def instance_terminology(data_dir: Path) -> terminology.Terminology:
    """The terminology of an instance: the shipped data, ``$TERMINOLOGY_EXTRA_DIRS`` and the sources imported
    into ``<data_dir>/terminology`` (loaded once per process and combination, at start)."""
    folder = import_dir(data_dir)
    return terminology.load(extra_dirs=[*terminology.env_extra_dirs(), *([folder] if folder.is_dir() else [])])


def terminology_version(term: terminology.Terminology) -> tuple[str, ...]:
    """What a cached result depends on besides the document: which terminology produced it (its data folders)."""
    return (str(term.data_dir), *map(str, term.extra_dirs))


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


def cached_release(cache: BoundedCache, sha256: str, country: str, term: terminology.Terminology) -> Released | None:
    """The released form of the stored document with this digest, when ``cache`` (the runtime's) has it."""
    return cache.get((sha256, country, terminology_version(term)))


@timing.timed("transcode")
def release_document(cache: BoundedCache, document: bytes, sha256: str, country: str,
                     term: terminology.Terminology) -> Released:
    """Transcode a stored summary for release; kept in ``cache`` (the runtime's) by content hash and
    terminology (the same stored version is parsed, transcoded, serialised and digested once per process)."""
    key = (sha256, country, terminology_version(term))
    cached = cache.get(key)
    if cached is not None:
        return cached
    bundle = orjson.loads(document)
    document_id = document_identifier(bundle)
    try:
        bundle, report = terminology.transcode(bundle, country, term)
        summary = coverage_header(report)
    except UnknownCountryError:
        summary = "codings=0; mapped=0; untranslated=0"  # a country without national code systems
    body = orjson.dumps(bundle)
    result = Released(body, summary, hashlib.sha256(body).hexdigest(), document_id)
    cache.put(key, result)
    return result


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
def translate(bundle: dict[str, Any], language: str,
              term: terminology.Terminology | None = None) -> tuple[dict[str, Any], str]:
    """Every coded entry displayed in ``language`` (originals kept); returns (bundle, coverage)."""
    try:
        bundle, report = terminology.translate(bundle, language, term)
    except UnsupportedLanguageError as exc:
        raise errors.BadRequest(str(exc), code="UNSUPPORTED_LANGUAGE") from None
    return bundle, coverage_header(report)


@dataclass(frozen=True)
class Translated:
    """A foreign summary as country B returns it to the clinician's software."""

    body: bytes  # JSON: every coded entry displayed in ``language`` (originals kept)
    coverage: str  # summary for the X-Terminology-Coverage header
    language: str
    document_id: str | None  # Bundle.identifier.value (the id both sides record)
    received_sha256: str  # digest of the exact bytes country A sent (A records the digest of what it sent)


