"""The bounds the served /openapi.json states are the server's: the ``Text`` pattern is exactly
``str.isprintable`` (what ``fhir_params.check_value`` accepts) over the characters it lists, and the
longest request a GET operation's parameters allow fits gunicorn's request line (no 414)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from gateway.surfaces.openapi import MAX_REQUEST_LINE
from gateway.surfaces.openapi_schemas import LAST_CHAR
from tests.conftest import Running
from tests.partner_api.conftest import DUPONT, Partner, plain

#: 3 bytes of UTF-8, percent-encoded 9: the widest character the Text pattern lists
WIDE = "\u20ac"


@pytest.fixture(scope="module")
def spec(countries: Running) -> dict:
    return plain(countries).get(countries.public("DE") + "/openapi.json", timeout=10).json()


def test_text_is_exactly_the_printable_characters(spec):
    schemas = spec["components"]["schemas"]
    text, non_blank = (re.compile(schemas[name]["pattern"]) for name in ("Text", "NonBlankText"))
    for cp in range(LAST_CHAR + 1):
        char = chr(cp)
        assert (text.fullmatch(char * 2) is not None) == char.isprintable(), hex(cp)
        assert (non_blank.fullmatch(char) is not None) == (char.isprintable() and char != " "), hex(cp)
    assert non_blank.fullmatch("  a ") and not non_blank.fullmatch("   ") and text.fullmatch("")


def _longest(param: dict, spec: dict) -> str:
    """The longest value of a query parameter the description allows (WIDE characters for free text)."""
    schema = param["schema"]
    if "enum" in schema:
        return max(schema["enum"], key=len)
    if schema.get("type") == "integer":
        return str(schema["maximum"])
    if "allOf" in schema:
        return WIDE * schema["maxLength"]
    return {"identifier": DUPONT["identifier"], "birthdate": DUPONT["birthdate"],
            "attachment": "a" * schema["maxLength"], "country": "FR"}[param["name"]]


def test_the_longest_request_each_get_allows_fits_the_request_line(spec, partner: Partner):
    session = partner.session()
    seen = 0
    for path, item in spec["paths"].items():
        params = [p for p in item.get("get", {}).get("parameters", []) if p["in"] == "query"]
        if not params:
            continue
        url_path = path.replace("{id}", "fr-" + "x" * 60)
        query = urlencode({p["name"]: _longest(p, spec) for p in params})
        line = f"GET {url_path}?{query} HTTP/1.1"
        assert len(line.encode()) <= MAX_REQUEST_LINE, (path, len(line))
        resp = session.get(f"{partner.base}{url_path}?{query}", timeout=20)
        assert resp.status_code != 414 and resp.headers.get("X-Request-ID"), (path, resp.status_code, resp.text[:200])
        seen += 1
    assert seen >= 8
    # the limit is gunicorn's, "HTTP/1.1" included: a line of that length is served, one byte more is refused
    pad = "x" * (MAX_REQUEST_LINE - len("GET /fhir/metadata?_pad= HTTP/1.1"))
    assert session.get(f"{partner.base}/fhir/metadata?_pad={pad}", timeout=10).status_code == 200
    assert session.get(f"{partner.base}/fhir/metadata?_pad={pad}x", timeout=10).status_code == 414
