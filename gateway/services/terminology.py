"""Terminology in the exchange: transcoding at country A on release, translation at country B.

The ``terminology`` library does the work; this module adds what the exchange needs around it:
a cache of released (transcoded) documents keyed by content hash at country A, a cache of translated
documents keyed by content hash and language at country B, language negotiation, and the mapping of
the library's errors onto the gateway's error hierarchy.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

import terminology
from gateway import errors, timing
from gateway.audit.chain import document_identifier
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


def _key(term: terminology.Terminology) -> tuple[str, ...]:
    """What a cached result depends on besides the document: which terminology produced it."""
    return (str(term.data_dir), *map(str, term.extra_dirs))


class _LRU:
    """At most ``size`` entries and, when ``max_bytes`` is given, at most that many bytes (each entry
    weighs what :meth:`put` is told); the least recently used go first."""

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.size, self.max_bytes, self.data, self.lock = size, max_bytes, OrderedDict(), threading.Lock()
        self.weights: dict[Any, int] = {}
        self.total = 0

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key: Any, value: Any, weight: int = 0) -> None:
        with self.lock:
            self.total += weight - self.weights.get(key, 0)
            self.data[key], self.weights[key] = value, weight
            self.data.move_to_end(key)
            while len(self.data) > self.size or (self.max_bytes is not None and self.total > self.max_bytes
                                                 and len(self.data) > 1):
                old, _ = self.data.popitem(last=False)
                self.total -= self.weights.pop(old)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()
            self.weights.clear()
            self.total = 0


_released = _LRU(512)
#: Country B: translated summaries by (digest of the bytes country A sent, language), 64 MiB at most.
_translated = _LRU(1024, max_bytes=64 * 1024 * 1024)


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


def cached_release(sha256: str, country: str, term: terminology.Terminology | None = None) -> Released | None:
    """The released form of the stored document with this digest, when this process has it already."""
    return _released.get((sha256, country, _key(term or terminology.load())))


@timing.timed("transcode")
def release_document(document: bytes, sha256: str, country: str, term: terminology.Terminology | None = None) -> Released:
    """Transcode a stored summary for release; cached by content hash (the same stored version is
    parsed, transcoded, serialised and digested once per process)."""
    term = term or terminology.load()
    key = (sha256, country, _key(term))
    cached = _released.get(key)
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


def translate_document(received: bytes, language: str, parse: Callable[[bytes], dict[str, Any]],
                       term: terminology.Terminology | None = None) -> Translated:
    """The document country A sent (``received``, its exact bytes) translated into ``language`` and
    serialised; cached by content digest and language, like the release at country A, so that the same
    document is parsed, translated and serialised once per process and language.

    ``parse`` turns the bytes into the Bundle, raising the caller's error for garbage; it only runs on
    a miss (bytes found in the cache were parsed and checked the first time). The translation depends
    on nothing else: the terminology is loaded once per process.
    """
    with timing.stage("translate"):
        digest = hashlib.sha256(received)
        term = term or terminology.load()
        key = (digest.digest(), language, _key(term))
        cached = _translated.get(key)
    if cached is not None:
        return cached
    bundle = parse(received)
    document_id = document_identifier(bundle)
    bundle, coverage = translate(bundle, language, term)
    with timing.stage("serialise"):
        body = orjson.dumps(bundle)
    result = Translated(body, coverage, language, document_id, digest.hexdigest())
    _translated.put(key, result, weight=len(body))
    return result
