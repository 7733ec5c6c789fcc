"""Reading helpers of the loader: language check and FHIR resource files with errors naming file and element."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from .model import SUPPORTED_LANGUAGES, TerminologyDataError, UnsupportedLanguageError


def check_language(language: str) -> str:
    """Normalise ``language`` ("fr", "fr-BE", "FR") to a supported base language or raise."""
    base = (language or "").split("-", 1)[0].split("_", 1)[0].lower()
    if base not in SUPPORTED_LANGUAGES:
        raise UnsupportedLanguageError(language)
    return base


def _fail(path: Path, element: str, problem: str) -> TerminologyDataError:
    return TerminologyDataError(str(path), element, problem)


def _read_resource(path: Path) -> dict[str, Any]:
    """One JSON resource file; fails naming the file when it is not a JSON object."""
    try:
        res = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise _fail(path, "(file)", f"not valid JSON: {exc}") from exc
    if not isinstance(res, dict):
        raise _fail(path, "(file)", "not a JSON object")
    return res


def _req_str(obj: dict[str, Any], key: str, path: Path, element: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _fail(path, f"{element}.{key}" if element else key, "missing or not a non-empty string")
    return value


def _list(obj: dict[str, Any], key: str, path: Path, element: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise _fail(path, f"{element}.{key}" if element else key, "must be an array")
    return value
