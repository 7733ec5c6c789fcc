"""Every request the served /openapi.json calls valid is one the running partner API accepts.

schemathesis (its engine, as ``st run`` drives it: the examples, coverage and fuzzing phases) sends
only schema-valid requests (positive mode) to DE's real public listener, on every operation of the
description, authenticated like partner software: an access token from the real /oauth/token flow
(private_key_jwt) and the clinician's ES256 assertion signed with the partner's registered key. Its
``positive_data_acceptance`` check fails on any refusal of valid data (400, 406, 413, 414, 415, 422...);
the default checks run too: no 5xx, declared status, content type, headers, and response body.

Two rules cannot be written in JSON Schema and are supplied here, named (``Steering.before_call``):

* a national identifier's check digits (INS-NIR key): generated identifiers are replaced by the seeded
  patients' (found, and opposed to cross-border access), in the form generated (with or without system);
* 1.0 is an integer to JSON Schema, not to FHIR's ``valueInteger``: such numbers are sent as 1.

Part of the Patient requests also carry all the traits of the French patient, or her id, so that fuzzed
values travel to France's NCPeH and back (the test checks that the summary was answered, 200).

Left out, with the reason: the stateful phase (the description declares no links between operations);
the checks of invalid data and of probes (negative_data_rejection, ignored_auth, missing_required_header,
unsupported_method...): this test is about valid data, ``tests/partner_api/test_fuzz.py`` sends the rest.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest
import schemathesis
from schemathesis import engine
from schemathesis.engine import events
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from tests.conftest import OPPOSED_INS, Running
from tests.partner_api.conftest import DUPONT, FR_INS_SYSTEM, INS, Partner, plain

#: Generated cases per operation in the fuzzing phase; the test stays under a minute on two cores.
MAX_EXAMPLES = int(os.environ.get("NCPEH_SCHEMATHESIS_EXAMPLES", "15"))
#: Same cases on every run (a red run is reproducible); NCPEH_SCHEMATHESIS_SEED=<n> draws others.
SEED = int(os.environ.get("NCPEH_SCHEMATHESIS_SEED", "18"))
#: The seeded patients' identifiers (JSON Schema cannot state their check digits): found, opposed.
IDENTIFIERS = (INS, OPPOSED_INS)
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
          "response_schema_conformance", "positive_data_acceptance")
PATIENT_OPERATIONS = ("/fhir/Patient", "/fhir/Patient/$summary")


class Steering:
    """``before_call`` hook: real identifiers in valid requests, and part of them sent to the real patient."""

    def __init__(self, patient_id: str) -> None:
        self.patient_id = patient_id
        self.turn = itertools.count()

    @staticmethod
    def _identifier(generated: str, value: str) -> str:
        return f"{FR_INS_SYSTEM}|{value}" if "|" in generated else value

    def _query(self, query: dict[str, Any], turn: int) -> None:
        if "identifier" in query:
            query["identifier"] = self._identifier(str(query["identifier"]), IDENTIFIERS[turn % 2])
        if turn % 3 == 0:  # all her traits (language, _format... as generated)
            query.update(DUPONT)

    def _body(self, body: dict[str, Any], turn: int) -> None:
        for item in body.get("parameter", []):
            if item.get("name") != "identifier":
                continue
            if isinstance(item.get("valueIdentifier"), dict):
                item["valueIdentifier"]["value"] = IDENTIFIERS[turn % 2]
            elif isinstance(item.get("valueString"), str):
                item["valueString"] = self._identifier(item["valueString"], IDENTIFIERS[turn % 2])
        if turn % 3 == 0:
            body["parameter"] = [
                {"name": "identifier", "valueIdentifier": {"system": FR_INS_SYSTEM, "value": INS}},
                {"name": "family", "valueString": "Dupont"}, {"name": "given", "valueString": "Marie"},
                {"name": "birthdate", "valueDate": "1984-05-12"}, {"name": "gender", "valueCode": "female"},
                *[item for item in body.get("parameter", []) if item.get("name") == "language"]]

    def before_call(self, ctx: schemathesis.HookContext, case: schemathesis.Case, **_kwargs: Any) -> None:
        if case.meta is None or not case.meta.generation.mode.is_positive:
            return
        if isinstance(case.body, dict) and isinstance(case.body.get("parameter"), list):
            for item in case.body["parameter"]:  # 1.0 is an integer to JSON Schema, not to FHIR's valueInteger
                if isinstance(item, dict) and isinstance(item.get("valueInteger"), float):
                    item["valueInteger"] = int(item["valueInteger"])
        turn = next(self.turn)
        path = case.operation.path
        if path in PATIENT_OPERATIONS and isinstance(case.query, dict):
            self._query(case.query, turn)
        if path == "/fhir/Patient/$summary" and isinstance(case.body, dict):
            self._body(case.body, turn)
        if "id" in (case.path_parameters or {}) and turn % 2 == 0:
            case.path_parameters["id"] = self.patient_id


def _failure(phase: str, label: str, check: str, info: Any, interaction: Any) -> str:
    request = f"{interaction.request.method} {interaction.request.uri}" if interaction else "?"
    body = interaction.request.body if interaction and interaction.request.body else b""
    answer = interaction.response if interaction else None
    status = answer.status_code if answer else None
    content = (answer.content or b"")[:300] if answer else b""
    return (f"[{phase}] {label}: {check}: {info.failure.title}\n  {request} {body[:300]!r}\n"
            f"  -> {status} {content!r}")


def run_positive(running: Running, partner: Partner,
                 patient_id: str) -> tuple[list[str], dict[str, set[str]], dict[str, set[int]]]:
    """Run schemathesis on every operation: its failures, and per operation the checks run and the statuses."""
    config = schemathesis.Config.from_dict({
        "base-url": partner.base,
        "tls-verify": running.ca("DE"),
        "request-timeout": 20,
        "workers": 1,
        "seed": SEED,
        "auth": {"openapi": {"smart": {"bearer": partner.token()},
                             "clinicianAssertion": {"api_key": partner.clinician_assertion()}}},
        "generation": {"mode": "positive", "max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
                   "stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    })
    # loaded from its JSON rather than its URL: from_url leaves out the operation that serves the description
    spec = plain(running).get(partner.base + "/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(spec, config=config)
    steering = Steering(patient_id)

    def before_call(ctx: schemathesis.HookContext, case: schemathesis.Case, **kwargs: Any) -> None:
        steering.before_call(ctx, case, **kwargs)

    # schemathesis accepts before_call only as a global hook: registered for this run, removed after it
    schemathesis.hook(before_call)
    try:
        return _run(schema)
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(before_call)


def _run(schema: schemathesis.BaseSchema) -> tuple[list[str], dict[str, set[str]], dict[str, set[int]]]:
    """The engine's run, as ``st run`` drives it, read from its events."""
    failures: list[str] = []
    checked: dict[str, set[str]] = {}
    statuses: dict[str, set[int]] = {}
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"error: {getattr(event, 'label', '')} {getattr(event, 'value', None) or event.exception!r}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        recorder = event.recorder
        for interaction in recorder.interactions.values():
            if interaction.response is not None:
                statuses.setdefault(recorder.label, set()).add(interaction.response.status_code)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                checked.setdefault(recorder.label, set()).add(check.name)
                if check.failure_info is not None:
                    failures.append(_failure(event.phase.value, recorder.label, check.name, check.failure_info,
                                             recorder.interactions.get(case_id)))
    return failures, checked, statuses


def calls_answered_by_france(running: Running) -> int:
    """France's audited calls so far (each request relayed to it is one)."""
    store = running.store("FR")
    try:
        return store.db.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    finally:
        store.close()


@pytest.fixture(scope="module")
def patient_id(partner: Partner) -> str:
    found = partner.session().get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=10)
    assert found.status_code == 200 and found.json()["total"] == 1, found.text
    return found.json()["entry"][0]["resource"]["id"]


def test_every_valid_request_is_accepted_on_every_operation(countries, partner, patient_id):
    before = calls_answered_by_france(countries)
    failures, checked, statuses = run_positive(countries, partner, patient_id)
    assert not failures, f"{len(failures)} failure(s):\n\n" + "\n\n".join(sorted(set(failures)))
    spec = plain(countries).get(partner.base + "/openapi.json", timeout=10).json()
    operations = [f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item]
    assert len(operations) >= 15, operations
    # not vacuous: every operation was called and its answers judged, valid data accepted included
    unchecked = {op: sorted(set(CHECKS) - checked.get(op, set())) for op in operations}
    assert not any(unchecked.values()), unchecked
    # the patient's operations answered valid requests with her summary or her match, not only with refusals
    for op in ("GET /fhir/Patient", "GET /fhir/Patient/{id}/$summary", "GET /fhir/Patient/$summary",
               "POST /fhir/Patient/$summary", "GET /fhir/metadata"):
        assert 200 in statuses[op], (op, statuses[op])
    assert calls_answered_by_france(countries) - before >= MAX_EXAMPLES  # the steered requests crossed the border
