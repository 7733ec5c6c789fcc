"""FHIR terminology operations on the partner API: CodeSystem/$lookup, ConceptMap/$translate,
ValueSet/$expand (displays in any supported language)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

import terminology
from gateway import errors
from gateway.audit_trail import not_audited
from gateway.fhir import fhir_response
from gateway.runtime import runtime
from gateway.surfaces import fhir_params
from gateway.surfaces.oauth import token_required

bp = Blueprint("terminology_api", __name__, url_prefix="/fhir")
MAX_COUNT = 1000
#: The parameters these operations read; each value is bounded like every partner API parameter.
KNOWN_PARAMETERS = ("system", "code", "targetsystem", "targetSystem", "url", "displayLanguage", "filter", "count",
                    "offset")


def _params() -> dict[str, str]:
    return fhir_params.operation_parameters(KNOWN_PARAMETERS)


def _required(params: dict[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise errors.BadRequest(f"Missing parameter(s): {', '.join(missing)}.", code="MISSING_PARAMETER")
    return [params[n] for n in names]


def _language(params: dict[str, str]) -> str | None:
    lang = params.get("displayLanguage")
    if not lang:
        return None
    try:
        return terminology.check_language(lang.split("-")[0].lower())
    except terminology.UnsupportedLanguageError as exc:
        raise errors.BadRequest(str(exc), code="UNSUPPORTED_LANGUAGE") from None


@bp.route("/CodeSystem/$lookup", methods=["GET", "POST"])
@not_audited("terminology holds no patient data; the blueprint rule records authentication refusals")
@token_required()
def lookup():
    params = _params()
    system, code = _required(params, "system", "code")
    lang = _language(params)
    concept = runtime().terminology.lookup(system, code, lang)
    if concept is None:
        raise errors.NotFound(f"Unknown code {code!r} in {system}.", code="UNKNOWN_CODE")
    out: list[dict[str, Any]] = [
        {"name": "name", "valueString": concept.system},
        {"name": "display", "valueString": concept.display or code},
    ]
    for language, text in sorted(concept.designations.items()):
        out.append({"name": "designation", "part": [
            {"name": "language", "valueCode": language}, {"name": "value", "valueString": text}]})
    return fhir_response({"resourceType": "Parameters", "parameter": out})


@bp.route("/ConceptMap/$translate", methods=["GET", "POST"])
@not_audited("terminology holds no patient data; the blueprint rule records authentication refusals")
@token_required()
def translate():
    params = _params()
    system, code = _required(params, "system", "code")
    target = params.get("targetsystem") or params.get("targetSystem")
    return fhir_response(runtime().terminology.translate_code(system, code, target))


@bp.route("/ValueSet/$expand", methods=["GET", "POST"])
@not_audited("terminology holds no patient data; the blueprint rule records authentication refusals")
@token_required()
def expand():
    params = _params()
    (url,) = _required(params, "url")
    try:
        count = int(params["count"]) if params.get("count") else None
        offset = int(params.get("offset") or 0)
    except ValueError:
        raise errors.BadRequest("count and offset must be whole numbers.", code="INVALID_PARAMETER") from None
    if (count is not None and not 0 <= count <= MAX_COUNT) or offset < 0:
        raise errors.BadRequest(f"count must be between 0 and {MAX_COUNT}, offset >= 0.", code="INVALID_PARAMETER")
    try:
        result = runtime().terminology.expand(url, _language(params), params.get("filter"), count, offset)
    except terminology.UnknownValueSetError:
        raise errors.NotFound(f"Unknown value set {url}.", code="UNKNOWN_VALUESET") from None
    return fhir_response(result)
