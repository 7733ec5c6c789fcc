"""Partner API helpers: extra partner clients (private_key_jwt), their sessions, stored-state snapshots."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from gateway.security import assertions
from gateway.security.trustlist import key_id
from tests.conftest import CLINICIAN, Running

FR_INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
INS = "284057505612387"
DUPONT = {"identifier": f"{FR_INS_SYSTEM}|{INS}", "family": "Dupont", "given": "Marie", "birthdate": "1984-05-12",
          "gender": "female"}


@dataclass
class Partner:
    """A partner client registered for these tests, with its own EC key (JWKS)."""

    running: Running
    code: str
    client_id: str
    secret: str | None
    key: ec.EllipticCurvePrivateKey

    @property
    def base(self) -> str:
        return self.running.public(self.code)

    @property
    def fhir(self) -> str:
        return self.base + "/fhir"

    @property
    def token_url(self) -> str:
        return self.base + "/oauth/token"

    def client_assertion(self, key: ec.EllipticCurvePrivateKey | None = None, alg: str = "ES256", **claims) -> str:
        key = key or self.key
        now = int(time.time())
        body = {"iss": self.client_id, "sub": self.client_id, "aud": self.token_url, "iat": now, "exp": now + 240,
                "jti": secrets.token_urlsafe(16), **claims}
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key, algorithm=alg, headers={"kid": key_id(key.public_key()), "typ": "JWT"})

    def token_response(self, assertion: str | None = None, **form) -> requests.Response:
        data = {"grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion or self.client_assertion(), **form}
        return plain(self.running).post(self.token_url, data=data, timeout=10)

    def token(self) -> str:
        resp = self.token_response()
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    def clinician_assertion(self, clinician=CLINICIAN) -> str:
        return assertions.clinician_assertion(self.key, self.client_id, self.fhir, clinician)

    def session(self, clinician: bool = True) -> requests.Session:
        session = plain(self.running)
        session.headers["Authorization"] = f"Bearer {self.token()}"
        if clinician:
            session.headers["X-Clinician-Assertion"] = self.clinician_assertion()
        return session


def plain(running: Running, code: str = "DE") -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = running.ca(code)
    return session


def add_partner(running: Running, code: str = "DE", scopes=("system/Patient.read",), rate: int | None = None,
                with_secret: bool = False) -> Partner:
    key = ec.generate_private_key(ec.SECP256R1())
    store = running.store(code)
    try:
        client_id, secret = store.clients.add(f"test partner {secrets.token_hex(3)}", list(scopes),
                                              jwks=assertions.client_jwks([key.public_key()]),
                                              with_secret=with_secret, rate_per_minute=rate)
    finally:
        store.close()
    return Partner(running, code, client_id, secret, key)


@pytest.fixture(scope="module")
def partner(countries) -> Partner:
    """A DE partner client using private_key_jwt, with a generous rate limit of its own."""
    return add_partner(countries, rate=100_000)


#: Tables a refused request may legitimately write: the audit trail (every request is audited) and the
#: replay cache of single-use assertions (filled when an assertion was accepted); on PostgreSQL also the
#: chain's head and the rate-limit buckets (a file of their own on SQLite).
NOT_STATE = {"audit_events", "assertion_replay", "sqlite_sequence", "audit_head", "token_buckets"}


def stored_state(running: Running, required: tuple[str, ...] = ("FR.patients", "FR.summaries", "DE.clients"),
                 ) -> dict[str, tuple[int, str]]:
    """Row count and content digest of every table of every country (records, consent, clients, portal
    accounts, migrations...), the audit trail and the replay cache excepted."""
    out = {}
    for code in running.configs:
        store = running.store(code)
        try:
            tables = store.table_names()
            for table in tables:
                if table in NOT_STATE:
                    continue
                rows = sorted(map(repr, store.db.execute(f'SELECT * FROM "{table}"').fetchall()))  # noqa: S608
                out[f"{code}.{table}"] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        finally:
            store.close()
    assert set(required) <= set(out), sorted(out)
    return out


def code_of(resp: requests.Response) -> str:
    body = resp.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"][0]["details"]["coding"][0]["code"]


FHIR_JSON = "application/fhir+json"


def _fhir_json(value: bytes, **_parameters: str) -> Any:
    return json.loads(value)


def served_openapi(running: Running, code: str = "DE") -> tuple[dict, OpenAPI]:
    """The description served at /openapi.json, and an openapi-core validator built from it."""
    resp = plain(running, code).get(running.public(code) + "/openapi.json", timeout=10)
    assert resp.status_code == 200
    spec = resp.json()
    # openapi-core deserialises application/json itself; FHIR's media type is JSON too
    return spec, OpenAPI.from_dict(spec, config=Config(extra_media_type_deserializers={FHIR_JSON: _fhir_json}))


def conforms(api: OpenAPI, resp: requests.Response) -> requests.Response:
    """Raises when the response (status, headers, body) is not what the description promises."""
    api.validate_response(RequestsOpenAPIRequest(resp.request), RequestsOpenAPIResponse(resp))
    return resp
