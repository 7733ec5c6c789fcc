"""Small FHIR JSON helpers (plain dicts on the hot path; models only at the edges)."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response

from gateway import timing
from gateway.errors import ERROR_SYSTEM, GatewayError

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def fhir_response(body: bytes | dict, status: int = 200, headers: dict | None = None) -> Response:
    if isinstance(body, bytes | bytearray):
        data = body
    else:
        with timing.stage("serialise"):
            data = dumps(body)
    resp = Response(data, status=status, content_type=f"{FHIR_JSON}; fhirVersion={FHIR_VERSION}; charset=utf-8")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def operation_outcome(error: GatewayError, request_id: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": "error",
        "code": error.issue_type,
        "details": {"coding": [{"system": ERROR_SYSTEM, "code": error.code}], "text": error.message},
        "diagnostics": error.message,
    }
    outcome: dict[str, Any] = {"resourceType": "OperationOutcome", "issue": [issue]}
    if request_id:
        outcome["id"] = request_id
    return outcome


def outcome_response(error: GatewayError, request_id: str | None = None) -> Response:
    """The one rendering of an error on every FHIR API: its OperationOutcome, with its status and headers."""
    return fhir_response(operation_outcome(error, request_id), status=error.status, headers=error.headers)


def error_code(outcome: Any) -> str | None:
    """The ncpeh error code carried by an OperationOutcome, if any."""
    try:
        for coding in outcome["issue"][0]["details"]["coding"]:
            if coding.get("system") == ERROR_SYSTEM:
                return coding.get("code")
    except (KeyError, IndexError, TypeError):
        return None
    return None


def searchset(entries: list[dict[str, Any]], self_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "entry": entries,
    }
    if self_url:
        bundle["link"] = [{"relation": "self", "url": self_url}]
    return bundle
