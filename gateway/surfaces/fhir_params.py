"""Request parameters of the partner FHIR API: query strings, FHIR ``Parameters`` bodies, ``Prefer``.

Unknown parameters follow FHIR's default (lenient) handling: they are **ignored**, and the ones
used are echoed in the searchset's ``self`` link; with ``Prefer: handling=strict`` the request is
refused instead (400 ``UNKNOWN_PARAMETER``). Every value is bounded (at most
:data:`MAX_VALUE_CHARS` printable characters); a known parameter given twice is refused, since
this API does not combine repetitions.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import g, request

from gateway import errors
from gateway.fhir import loads

MAX_VALUE_CHARS = 256
#: Request bodies of the partner API (FHIR Parameters) are small; larger ones answer 413.
MAX_BODY_BYTES = 64 * 1024
JSON_FORMATS = ("json", "application/json", "application/fhir+json", "application/json+fhir")
BODY_TYPES = ("application/fhir+json", "application/json")


def handling_strict() -> bool:
    """``Prefer: handling=strict`` (RFC 7240 preference used by FHIR search)."""
    prefer = request.headers.get("Prefer", "")
    return any(part.strip().lower() == "handling=strict" for part in prefer.replace(";", ",").split(","))


def _short(name: str) -> str:
    clean = "".join(ch if ch.isprintable() else "?" for ch in name)
    return repr(clean[:40])


def check_value(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise errors.Unprocessable(f"Parameter '{name}' must be a string.", code="INVALID_PARAMETER_VALUE")
    if len(value) > MAX_VALUE_CHARS:
        raise errors.BadRequest(f"Parameter '{name}' is longer than {MAX_VALUE_CHARS} characters.",
                                code="INVALID_PARAMETER")
    if any(not ch.isprintable() for ch in value):
        raise errors.BadRequest(f"Parameter '{name}' contains control characters.", code="INVALID_PARAMETER")
    return value


def unknown_parameters(names: list[str], known: tuple[str, ...]) -> None:
    """Refuse them under ``Prefer: handling=strict``; otherwise remember them as ignored."""
    if not names:
        return
    if handling_strict():
        raise errors.BadRequest(
            f"Unknown parameter(s) {', '.join(_short(n) for n in names[:10])} (Prefer: handling=strict); "
            f"this operation knows: {', '.join(known)}.", code="UNKNOWN_PARAMETER")
    g.ignored_parameters = sorted({n[:40] for n in names})[:20]


def check_format(value: str | None) -> None:
    if value is not None and value.strip().lower() not in JSON_FORMATS:
        raise errors.NotAcceptable("Only FHIR JSON is produced (_format=json).", code="UNSUPPORTED_FORMAT")


def query(known: tuple[str, ...]) -> dict[str, str]:
    """The known query parameters of this request (``_format`` is checked and dropped)."""
    out: dict[str, str] = {}
    unknown: list[str] = []
    for name in request.args:
        values = request.args.getlist(name)
        if name == "_format":
            check_format(values[-1])
            continue
        if name not in known:
            unknown.append(name)
            continue
        if len(values) > 1:
            raise errors.BadRequest(f"Parameter '{name}' is given {len(values)} times; give it once.",
                                    code="REPEATED_PARAMETER")
        out[name] = check_value(name, values[0])
    unknown_parameters(unknown, known)
    return out


def parameters_body() -> list[dict[str, Any]]:
    """The ``parameter`` list of a FHIR Parameters body (415, 413, 400 or 422 otherwise)."""
    if request.mimetype not in BODY_TYPES:
        raise errors.UnsupportedMediaType(
            "Send a FHIR Parameters resource as application/fhir+json.", code="UNSUPPORTED_MEDIA_TYPE")
    request.max_content_length = MAX_BODY_BYTES
    raw = request.get_data(cache=True)  # 413 (RequestEntityTooLarge) beyond MAX_BODY_BYTES
    try:
        body = loads(raw)
    except orjson.JSONDecodeError:
        raise errors.BadRequest("The body is not valid JSON.", code="MALFORMED_JSON") from None
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise errors.Unprocessable("The body must be a FHIR Parameters resource (resourceType 'Parameters').",
                                   code="INVALID_PARAMETERS")
    params = body.get("parameter", [])
    if not isinstance(params, list) or any(
            not isinstance(p, dict) or not isinstance(p.get("name"), str) or not p["name"] for p in params):
        raise errors.Unprocessable("Parameters.parameter must be a list of {name, value[x]} objects.",
                                   code="INVALID_PARAMETERS")
    return params


def parameter_value(item: dict[str, Any], accepted: tuple[str, ...]) -> Any:
    """The value[x] of one parameter, when its type is one of ``accepted`` (e.g. valueString)."""
    values = {k: v for k, v in item.items() if k.startswith("value")}
    if len(values) != 1:
        raise errors.Unprocessable(f"Parameter '{item['name'][:40]}' needs exactly one value[x].",
                                   code="INVALID_PARAMETER_VALUE")
    (kind, value), = values.items()
    if kind not in accepted:
        raise errors.Unprocessable(
            f"Parameter '{item['name'][:40]}' must be given as {' or '.join(accepted)}, not {kind[:40]}.",
            code="INVALID_PARAMETER_VALUE")
    return value
