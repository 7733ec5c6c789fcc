"""JSON Schemas of the partner API's OpenAPI description (``gateway.surfaces.openapi``): what the server
accepts in parameters and FHIR ``Parameters`` bodies, exactly where JSON Schema can say it, and what it
answers.

Every parameter value is at most ``MAX_VALUE_CHARS`` characters that ``str.isprintable`` accepts
(``fhir_params.check_value``): the ``Text`` schema, whose pattern lists those characters. Traits that
the patient's country requires must not be blank (``NonBlankText``). What JSON Schema cannot say is
said in the descriptions: a national identifier's check digits, and, when several countries are
trusted, which identifier system and traits go with which country.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from gateway.config import KNOWN_TRAITS as TRAITS
from gateway.security.trustlist import TrustedCountry
from gateway.surfaces.fhir_params import MAX_VALUE_CHARS
from gateway.surfaces.oauth import CLIENT_ASSERTION_ALGORITHMS, JWT_BEARER

_REF = "#/components/schemas/"
GENDERS = ["female", "male", "other", "unknown"]
#: YYYY, YYYY-MM or YYYY-MM-DD (gateway.services.identify checks birthdate so).
DATE = "[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?"
#: The structure of each identifier scheme's values (gateway.records.identifiers); their check digits
#: cannot be written in a regular expression of any useful size.
IDENTIFIER_VALUES = {
    "ins-nir": "[1-4][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{8}",
    "kvnr": "[A-Z][0-9]{9}",
    "codice-fiscale": "[A-Z]{6}[0-9L-NP-V]{2}[A-EHLMPR-T][0-9L-NP-V]{2}[A-Z][0-9L-NP-V]{3}[A-Z]",
}
_ANY_IDENTIFIER = "[!-{}~]{1,64}"
#: the longest value of IDENTIFIER_VALUES / _ANY_IDENTIFIER
_IDENTIFIER_VALUE_CHARS = 64


def ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


#: The last character the ``Text`` pattern lists: generators (hypothesis, under schemathesis) build a class
#: character by character, again for every parameter: the 280,000 printable characters of all of Unicode
#: made the API's schemathesis tests twice as slow (85 s and 123 s instead of 30 s and 55 s).
LAST_CHAR = 0xFFFF


@cache
def printable(space: bool = True) -> str:
    """A regex character class of the characters up to :data:`LAST_CHAR` that ``str.isprintable`` accepts
    (without the space)."""
    ranges: list[tuple[int, int]] = []
    start = None
    for cp in range(LAST_CHAR + 2):
        ok = cp <= LAST_CHAR and chr(cp).isprintable() and (space or cp != 0x20)
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return "[" + "".join(f"\\u{a:04x}" + (f"-\\u{b:04x}" if b > a else "") for a, b in ranges) + "]"


def text(max_length: int = MAX_VALUE_CHARS, required: bool = False) -> dict[str, Any]:
    """A parameter value: printable characters, at most ``max_length``; not blank when ``required``."""
    return {"allOf": [ref("NonBlankText" if required else "Text")], "maxLength": min(max_length, MAX_VALUE_CHARS)}


def identifier_pattern(countries: Sequence[TrustedCountry], system_required: bool) -> str:
    """``system|value`` of one of ``countries`` (the system may be left out when not ``system_required``)."""
    if not countries:
        return f"^(?:[!-{{}}~]{{1,200}}\\|)?{_ANY_IDENTIFIER}$" if not system_required else \
            f"^[!-{{}}~]{{1,200}}\\|{_ANY_IDENTIFIER}$"
    optional = "" if system_required else "?"
    return "^(?:" + "|".join(f"(?:{re.escape(c.identifier_system)}\\|){optional}"
                             f"{IDENTIFIER_VALUES.get(c.identifier_scheme, _ANY_IDENTIFIER)}"
                             for c in countries) + ")$"


def identifier_max_chars(countries: Sequence[TrustedCountry]) -> int:
    return max((len(c.identifier_system) for c in countries), default=200) + 1 + _IDENTIFIER_VALUE_CHARS


def country_codes(countries: Sequence[TrustedCountry]) -> list[str]:
    """The codes a request may name: each foreign country's, in upper or lower case."""
    return [form for c in countries for form in (c.code.upper(), c.code.lower())]


def required_traits(countries: Sequence[TrustedCountry]) -> list[str]:
    """The traits some foreign country requires (its search mask), in TRAITS order."""
    masks = {trait for c in countries for trait in c.search_mask}
    return [t for t in TRAITS if t in masks] if countries else ["identifier"]


def trait_schema(trait: str, required: bool, max_length: int = MAX_VALUE_CHARS) -> dict[str, Any]:
    """The schema of one identity trait's value (the identifier excepted)."""
    if trait == "gender":
        return {"type": "string", "enum": GENDERS}
    if trait == "birthdate":
        return {"type": "string", "pattern": f"^{DATE}$" if required else f"^(?:{DATE})?$"}
    return text(max_length, required)


def _value(kinds: Sequence[str], schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "object", "required": ["name", kind], "additionalProperties": False,
             "properties": {"name": True, kind: schema}} for kind in kinds]


def _part(name: str, kinds: Sequence[str], schema: dict[str, Any]) -> dict[str, Any]:
    """One ``Parameters.parameter`` named ``name``, with exactly one of the value[x] ``kinds``."""
    return {"allOf": [{"properties": {"name": {"const": name}}}, {"oneOf": _value(kinds, schema)}]}


def _named(*names: str) -> dict[str, Any]:
    return {"type": "object", "required": ["name"], "properties": {"name": {"enum": list(names)}}}


def summary_parameters(countries: Sequence[TrustedCountry], languages: Sequence[str]) -> dict[str, Any]:
    """POST Patient/$summary: each parameter once, the identifier (with its system) and the required traits."""
    required = required_traits(countries)
    by_country = [{"properties": {"system": {"const": c.identifier_system}, "value": {
        "type": "string", "pattern": f"^{IDENTIFIER_VALUES.get(c.identifier_scheme, _ANY_IDENTIFIER)}$"}}}
        for c in countries] or [{"properties": {"system": text(required=True), "value": {
            "type": "string", "pattern": f"^{_ANY_IDENTIFIER}$"}}}]
    identifier = {"oneOf": [
        {"type": "object", "required": ["name", "valueIdentifier"], "additionalProperties": False, "properties": {
            "name": True, "valueIdentifier": {"type": "object", "required": ["system", "value"],
                                              "properties": {"system": True, "value": True},
                                              "additionalProperties": False, "oneOf": by_country}}},
        *_value(["valueString"], {"type": "string", "pattern": identifier_pattern(countries, system_required=True)})]}
    parts = [{"allOf": [{"properties": {"name": {"const": "identifier"}}}, identifier]},
             _part("country", ["valueCode", "valueString"], {"enum": country_codes(countries)} if countries else
                   {"type": "string", "pattern": "^[A-Za-z]{2}$"}),
             _part("family", ["valueString"], trait_schema("family", "family" in required)),
             _part("given", ["valueString"], trait_schema("given", "given" in required)),
             _part("birthdate", ["valueDate", "valueString"], trait_schema("birthdate", "birthdate" in required)),
             _part("gender", ["valueCode", "valueString"], trait_schema("gender", "gender" in required)),
             _part("birthplace", ["valueString"], trait_schema("birthplace", "birthplace" in required)),
             _part("language", ["valueCode", "valueString"], {"enum": list(languages)})]
    names = ["identifier", "country", "family", "given", "birthdate", "gender", "birthplace", "language"]
    return {
        "type": "object", "required": ["resourceType", "parameter"],
        "properties": {
            "resourceType": {"const": "Parameters"},
            "parameter": {
                "type": "array", "minItems": len(required), "maxItems": len(names), "items": {"anyOf": parts},
                "allOf": [{"contains": _named(name), "minContains": 1 if name in required else 0, "maxContains": 1}
                          for name in names]},
        },
    }


def terminology_parameters(operation: str, languages: Sequence[str]) -> dict[str, Any]:
    """POST CodeSystem/$lookup, ConceptMap/$translate, ValueSet/$expand: the parameters each one reads."""
    uri, code = ["valueUri", "valueString"], ["valueCode", "valueString"]
    coding = {"type": "object", "required": ["system", "code"], "additionalProperties": False,
              "properties": {"system": text(required=False) | {"minLength": 1}, "code": text() | {"minLength": 1},
                             "display": text()}}
    nonempty = text() | {"minLength": 1}
    language = _part("displayLanguage", code, {"enum": list(languages)})
    if operation == "expand":
        parts = [_part("url", uri, nonempty), language, _part("filter", ["valueString"], text()),
                 _part("count", ["valueInteger"], {"type": "integer", "minimum": 0, "maximum": 1000}),
                 _part("offset", ["valueInteger"], {"type": "integer", "minimum": 0, "maximum": 1_000_000})]
        needed: dict[str, Any] = {"contains": _named("url")}
    else:
        parts = [_part("system", uri, nonempty), _part("code", code, nonempty), _part("coding", ["valueCoding"], coding),
                 language if operation == "lookup" else _part("targetsystem", uri, text())]
        # a system and a code: by name, or in a coding
        needed = {"allOf": [{"contains": _named("system", "coding")}, {"contains": _named("code", "coding")}]}
    return {
        "type": "object", "required": ["resourceType", "parameter"],
        "properties": {"resourceType": {"const": "Parameters"},
                       "parameter": {"type": "array", "minItems": 1, "maxItems": 8, "items": {"anyOf": parts},
                                     **needed}},
    }


def schemas(countries: Sequence[TrustedCountry], languages: Sequence[str]) -> dict[str, Any]:
    """``components.schemas``: parameter values, request bodies, and the answers."""
    resource = {"type": "object", "required": ["resourceType"], "properties": {"resourceType": {"type": "string"}}}
    coding = {"type": "object", "properties": {"system": {"type": "string"}, "code": {"type": "string"},
                                               "display": {"type": "string"}}}
    return {
        "Text": {"type": "string", "pattern": f"^{printable()}*$",
                 "description": f"At most {MAX_VALUE_CHARS} printable characters (no control, format, private-use, "
                                "unassigned or separator character but the space). The pattern lists those of the "
                                "Basic Multilingual Plane; printable characters beyond it are accepted too."},
        "NonBlankText": {"type": "string", "pattern": f"^ *{printable(space=False)}{printable()}*$",
                         "description": "Text with at least one character that is not a space."},
        "SummaryParameters": summary_parameters(countries, languages),
        **{f"{name.capitalize()}Parameters": terminology_parameters(name, languages)
           for name in ("lookup", "translate", "expand")},
        "OperationOutcome": {
            "type": "object", "required": ["resourceType", "issue"],
            "properties": {
                "resourceType": {"const": "OperationOutcome"},
                "id": {"type": "string"},
                "issue": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["severity", "code", "details"],
                    "properties": {
                        "severity": {"enum": ["fatal", "error", "warning", "information"]},
                        "code": {"type": "string"},
                        "details": {"type": "object", "required": ["coding"], "properties": {
                            "coding": {"type": "array", "minItems": 1, "items": {
                                "type": "object", "required": ["system", "code"],
                                "properties": {"system": {"type": "string"},
                                               "code": {"type": "string", "pattern": "^[A-Za-z_]+$"}}}},
                            "text": {"type": "string"}}},
                        "diagnostics": {"type": "string"}}}},
            },
        },
        "Patient": {
            "type": "object", "required": ["resourceType", "id"],
            "properties": {
                "resourceType": {"const": "Patient"},
                "id": {"type": "string", "pattern": "^[a-z]{2}-"},
                "identifier": {"type": "array", "items": {"type": "object", "required": ["value"], "properties": {
                    "system": {"type": "string"}, "value": {"type": "string"}}}},
                "name": {"type": "array", "items": {"type": "object"}},
                "gender": {"enum": GENDERS},
                "birthDate": {"type": "string"},
            },
        },
        "PatientSearchset": {
            "type": "object", "required": ["resourceType", "type", "total", "entry"],
            "properties": {
                "resourceType": {"const": "Bundle"},
                "type": {"const": "searchset"},
                "total": {"type": "integer", "minimum": 0},
                "link": {"type": "array", "items": {"type": "object", "required": ["relation", "url"]}},
                "entry": {"type": "array", "items": {
                    "type": "object", "required": ["fullUrl", "resource"],
                    "properties": {"fullUrl": {"type": "string"}, "resource": ref("Patient"),
                                   "search": {"type": "object", "properties": {"mode": {"const": "match"}}}}}},
            },
        },
        "DocumentBundle": {
            "type": "object", "required": ["resourceType", "type", "entry"],
            "properties": {
                "resourceType": {"const": "Bundle"},
                "type": {"const": "document"},
                "identifier": {"type": "object"},
                "timestamp": {"type": "string"},
                # The Composition comes first (FHIR document rule); said with 'contains', not 'prefixItems',
                # which response validators of OpenAPI tools (schemathesis) mishandle.
                "entry": {"type": "array", "minItems": 1,
                          "contains": {"type": "object", "required": ["resource"], "properties": {
                              "resource": {"type": "object", "required": ["resourceType"],
                                           "properties": {"resourceType": {"const": "Composition"}}}}},
                          "items": {"type": "object", "required": ["resource"],
                                    "properties": {"resource": resource}}},
            },
        },
        "CapabilityStatement": {
            "type": "object", "required": ["resourceType", "status", "kind", "fhirVersion", "format", "rest"],
            "properties": {
                "resourceType": {"const": "CapabilityStatement"},
                "status": {"const": "active"},
                "kind": {"const": "instance"},
                "fhirVersion": {"const": "4.0.1"},
                "format": {"type": "array", "items": {"type": "string"}},
                "rest": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["mode"]}},
            },
        },
        "Parameters": {
            "type": "object", "required": ["resourceType"],
            "properties": {
                "resourceType": {"const": "Parameters"},
                "parameter": {"type": "array", "items": {"type": "object", "required": ["name"],
                                                         "properties": {"name": {"type": "string"}}}},
            },
        },
        "ValueSet": {
            "type": "object", "required": ["resourceType"],
            "properties": {"resourceType": {"const": "ValueSet"},
                           "expansion": {"type": "object", "properties": {
                               "contains": {"type": "array", "items": coding}}}},
        },
        "SmartConfiguration": {
            "type": "object",
            "required": ["token_endpoint", "token_endpoint_auth_methods_supported", "grant_types_supported",
                         "capabilities"],
            "properties": {
                "issuer": {"type": "string"},
                "token_endpoint": {"type": "string"},
                "token_endpoint_auth_methods_supported": {"type": "array", "contains": {"const": "private_key_jwt"}},
                "token_endpoint_auth_signing_alg_values_supported": {
                    "type": "array", "items": {"enum": list(CLIENT_ASSERTION_ALGORITHMS)}},
                "grant_types_supported": {"type": "array", "contains": {"const": "client_credentials"}},
                "scopes_supported": {"type": "array", "items": {"type": "string"}},
                "capabilities": {"type": "array", "items": {"type": "string"}},
            },
        },
        "TokenRequest": {
            "type": "object", "required": ["grant_type"],
            "properties": {
                "grant_type": {"const": "client_credentials"},
                "scope": {"type": "string"},
                "client_assertion_type": {"const": JWT_BEARER},
                "client_assertion": {"type": "string"},
                "client_id": {"type": "string"},
                "client_secret": {"type": "string"},
            },
        },
        "TokenResponse": {
            "type": "object", "required": ["access_token", "token_type", "expires_in", "scope"],
            "properties": {"access_token": {"type": "string"}, "token_type": {"const": "Bearer"},
                           "expires_in": {"type": "integer", "maximum": 300}, "scope": {"type": "string"}},
        },
        "OAuthError": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"enum": ["invalid_request", "invalid_client", "invalid_grant",
                                              "unauthorized_client", "unsupported_grant_type", "invalid_scope",
                                              "temporarily_unavailable"]},
                           "error_description": {"type": "string"}},
        },
    }
