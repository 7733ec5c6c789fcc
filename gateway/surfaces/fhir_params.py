"""Request parameters of the FHIR APIs (the one place they are parsed): query strings, FHIR
``Parameters`` bodies, ``Prefer``.

Unknown parameters follow FHIR's default (lenient) handling: they are **ignored**, and the ones
used are echoed in the searchset's ``self`` link; with ``Prefer: handling=strict`` the request is
refused instead (400 ``UNKNOWN_PARAMETER``). Every value is bounded (at most
:data:`MAX_VALUE_CHARS` printable characters); a known parameter given twice is refused, since
this API does not combine repetitions. The terminology operations read theirs more leniently
(:func:`operation_parameters`).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import request

from gateway import audit_trail, errors
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
    """Refuse them under ``Prefer: handling=strict``; otherwise name them, as ignored, in the call's audit record."""
    if not names:
        return
    if handling_strict():
        raise errors.BadRequest(
            f"Unknown parameter(s) {', '.join(_short(n) for n in names[:10])} (Prefer: handling=strict); "
            f"this operation knows: {', '.join(known)}.", code="UNKNOWN_PARAMETER")
    audit_trail.note(detail={"ignored_parameters": sorted({n[:40] for n in names})[:20]})


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


def _body_bytes() -> bytes:
    """The request body, when it is FHIR JSON (415 otherwise) of at most :data:`MAX_BODY_BYTES` (413)."""
    if request.mimetype not in BODY_TYPES:
        raise errors.UnsupportedMediaType(
            "Send a FHIR Parameters resource as application/fhir+json.", code="UNSUPPORTED_MEDIA_TYPE")
    request.max_content_length = MAX_BODY_BYTES
    return request.get_data(cache=True)  # 413 (RequestEntityTooLarge) beyond MAX_BODY_BYTES


def parameters_body() -> list[dict[str, Any]]:
    """The ``parameter`` list of a FHIR Parameters body (415, 413, 400 or 422 otherwise)."""
    raw = _body_bytes()
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


def body_parameters(value_types: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """A FHIR Parameters body as strings, each parameter given once in one of its accepted value[x] types
    (``value_types``: name -> e.g. ``("valueIdentifier", "valueString")``; an Identifier as system|value);
    unknown names are ignored (or refused under ``Prefer: handling=strict``)."""
    out: dict[str, str] = {}
    unknown: list[str] = []
    for item in parameters_body():
        name = item["name"]
        if name not in value_types:
            unknown.append(name)
            continue
        if name in out:
            raise errors.BadRequest(f"Parameter '{name}' is given twice; give it once.", code="REPEATED_PARAMETER")
        value = parameter_value(item, value_types[name])
        if isinstance(value, dict):  # valueIdentifier
            system, ident = value.get("system"), value.get("value")
            if not isinstance(ident, str) or not ident.strip() or not isinstance(system, str | None):
                raise errors.Unprocessable("The identifier needs a 'value' (and a 'system').",
                                           code="INVALID_PARAMETER_VALUE")
            value = f"{system}|{ident}" if system else ident
        out[name] = check_value(name, value)
    unknown_parameters(unknown, tuple(value_types))
    return out


def _primitive(name: str, value: Any) -> str:
    """The text of a primitive FHIR value (``valueString``, ``valueUri``, ``valueCode``, ``valueInteger``,
    ``valueBoolean``...); a complex or null value of a known parameter is refused, not turned into text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value)
    raise errors.BadRequest(f"Parameter {_short(name)} needs a primitive value (valueString, valueUri, valueCode, "
                            "valueInteger or valueBoolean).", code="INVALID_PARAMETERS")


def operation_parameters(known: tuple[str, ...]) -> dict[str, str]:
    """Parameters of the terminology operations: the query string, or with POST a FHIR Parameters body
    read leniently (a valueCoding gives ``system`` and ``code``; unknown names are ignored). A known
    parameter must have a primitive value (string, uri, code, integer, boolean: else 400
    ``INVALID_PARAMETERS`` naming it, as when the body is not a Parameters resource) and be given once
    (400 ``REPEATED_PARAMETER``); every value is bounded like the partner API's."""
    params: dict[str, str] = {}
    for name in request.args:
        values = request.args.getlist(name)
        if name in known and len(values) > 1:
            raise errors.BadRequest(f"Parameter '{name}' is given {len(values)} times; give it once.",
                                    code="REPEATED_PARAMETER")
        params[name] = values[0]
    if request.method == "POST":
        raw = _body_bytes()
        try:
            body = loads(raw)
            if body.get("resourceType") != "Parameters":
                raise ValueError
            for item in body.get("parameter", []):
                value = next((v for k, v in item.items() if k.startswith("value")), None)
                if isinstance(value, dict) and "code" in value:  # valueCoding
                    if not isinstance(value.get("system", ""), str) or not isinstance(value["code"], str):
                        raise ValueError
                    params.setdefault("system", value.get("system", ""))
                    params.setdefault("code", value["code"])
                elif value is not None and item["name"] in known:
                    params[item["name"]] = _primitive(item["name"], value)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise errors.BadRequest("The body must be a FHIR Parameters resource.", code="INVALID_PARAMETERS") from None
    return {name: check_value(name, value) for name, value in params.items() if name in known}
