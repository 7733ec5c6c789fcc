"""The audit chain: append-only in the database, hash-chained, verified, rendered as FHIR AuditEvents."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
import threading

import psycopg
import pytest
from click.testing import CliRunner
from fhir.resources.R4B.auditevent import AuditEvent

from gateway import audit_trail as trail
from gateway import storage
from gateway.audit import events
from gateway.audit.chain import GENESIS
from gateway.audit.events import Outcome
from gateway.audit.export import parse_when
from gateway.audit.fhir import to_fhir
from gateway.audit.verify import verify
from gateway.cli import main
from gateway.config import country_file, load_config
from gateway.storage.records import PatientRecord
from tests.postgres import BACKENDS, fresh_database, pg_cluster  # noqa: F401 - fixture

INS = "284057505612387"
FR_INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"


def entry(event=events.SUMMARY, **fields):
    defaults = {"recorder": "FR", "listener": "ncp", "side": events.RESPONDING, "peer_country": "DE",
                "actor_type": events.ACTOR_CLINICIAN, "actor_id": "de-lanr-1", "actor_role": "221",
                "organisation": "urn:oid:1.2.3", "purpose": "TREATMENT", "patient_id": "abc123",
                "request_id": "req-00000001", "network": "127.0.0.1"}
    return trail.draft(event, **{**defaults, **fields})


def fill(store, count=5):
    return [store.audit.append(entry(request_id=f"req-{i:08d}")) for i in range(count)]


@pytest.fixture()
def store(tmp_path):
    s = storage.open_store(tmp_path / "db.sqlite3")
    yield s
    s.close()


@pytest.fixture(params=BACKENDS)
def any_store(request, tmp_path):
    """A store on SQLite, or on a database of its own in the session's PostgreSQL cluster (tests/postgres.py)."""
    target = fresh_database(request.getfixturevalue("pg_cluster")) if request.param == "postgresql" else (
        tmp_path / "db.sqlite3")
    s = storage.open_store(target)
    yield s
    s.close()


def test_records_are_chained(any_store):
    store = any_store
    first, second, third = fill(store, 3)
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert first.hash == first.compute_hash()
    result = verify(store.audit)
    assert result.ok and result.count == 3 and result.head_hash == third.hash


@pytest.mark.parametrize("sql", ["UPDATE audit_events SET outcome = '4' WHERE seq = 1",
                                 "DELETE FROM audit_events WHERE seq = 2", "DELETE FROM audit_events"])
def test_database_refuses_update_and_delete(any_store, sql):
    store = any_store
    fill(store, 3)
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
        store.db.execute(sql)
    assert store.audit.count() == 3 and verify(store.audit).ok


def tamper(path, *statements):
    """Bypass the triggers the way an attacker with file access would: drop, change, put back."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute("DROP TRIGGER audit_events_no_delete")
    for sql in statements:
        conn.execute(*sql) if isinstance(sql, tuple) else conn.execute(sql)
    for verb in ("UPDATE", "DELETE"):
        conn.execute(f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events"
                     " BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END")
    conn.close()


def copy_db(store, tmp_path):
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(store.path, copy)
    return copy


def test_modified_row_is_detected(store, tmp_path):
    records = fill(store, 5)
    copy = copy_db(store, tmp_path)
    tamper(copy, "UPDATE audit_events SET peer_country = 'IT' WHERE seq = 3")
    tampered = storage.open_store(copy)
    result = verify(tampered.audit)
    assert not result.ok
    assert result.broken.seq == 3 and result.broken.uuid == records[2].uuid
    assert "changed" in result.broken.reason
    assert result.count == 2
    tampered.close()


def test_modified_row_with_recomputed_hash_breaks_the_next_link(store, tmp_path):
    fill(store, 4)
    copy = copy_db(store, tmp_path)
    forged = store.audit.get(2)
    forged = dataclasses.replace(forged, outcome="4")
    forged = dataclasses.replace(forged, hash=forged.compute_hash())
    tamper(copy, ("UPDATE audit_events SET outcome = '4', hash = ? WHERE seq = 2", (forged.hash,)))
    tampered = storage.open_store(copy)
    result = verify(tampered.audit)
    assert not result.ok and result.broken.seq == 3 and "does not follow record #2" in result.broken.reason
    tampered.close()


def test_deleted_row_is_detected(store, tmp_path):
    records = fill(store, 5)
    copy = copy_db(store, tmp_path)
    tamper(copy, "DELETE FROM audit_events WHERE seq = 2")
    tampered = storage.open_store(copy)
    result = verify(tampered.audit)
    assert not result.ok
    assert result.broken.seq == 3 and result.broken.uuid == records[2].uuid
    assert "#2 is missing" in result.broken.reason
    tampered.close()


def test_deleted_last_rows_are_detected(store, tmp_path):
    fill(store, 5)
    copy = copy_db(store, tmp_path)
    tamper(copy, "DELETE FROM audit_events WHERE seq >= 4")
    tampered = storage.open_store(copy)
    result = verify(tampered.audit)
    assert not result.ok and result.broken.seq == 4 and "#4..#5 are missing" in result.broken.reason
    # a record appended afterwards does not hide the gap
    tampered.audit.append(entry())
    assert "missing" in verify(tampered.audit).broken.reason
    tampered.close()


def test_dropped_triggers_are_reported(store, tmp_path):
    fill(store, 2)
    copy = copy_db(store, tmp_path)
    conn = sqlite3.connect(copy)
    conn.execute("DROP TRIGGER audit_events_no_delete")
    conn.close()
    tampered = storage.open_store(copy)
    assert "triggers" in verify(tampered.audit).broken.reason
    tampered.close()


def test_concurrent_threads_and_connections_keep_one_chain(tmp_path):
    path = tmp_path / "db.sqlite3"
    storage.open_store(path).close()
    errors: list[BaseException] = []

    def writer(n):
        s = storage.open_store(path, migrate=False)
        try:
            for i in range(25):
                s.audit.append(entry(request_id=f"w{n}-{i:04d}-x"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    s = storage.open_store(path)
    result = verify(s.audit)
    assert result.ok and result.count == 200
    s.close()


def test_detail_keeps_identifiers_only(any_store):
    store = any_store
    e = store.audit.append(entry(detail={"matches": 1, "family": "DUPONT", "birthdate": "1984-05-12",
                                         "client_secret": "s3cret", "access_token": "eyJ...", "x" * 500: "y" * 500}))
    text = json.dumps(e.detail)
    for leaked in ("DUPONT", "1984-05-12", "s3cret", "eyJ"):
        assert leaked not in text
    assert e.detail["matches"] == 1
    assert all(len(k) <= 60 and len(v) <= trail.MAX_TEXT for k, v in e.detail.items() if isinstance(v, str))


def test_unknown_event_refused():
    with pytest.raises(ValueError):
        trail.draft("patient.teleport", recorder="FR", listener="cli")


SAMPLES = [
    entry(),  # release at A
    entry(side=events.REQUESTING, listener="public", recorder="DE", peer_country="FR", patient_id="fr-abc123",
          detail={"document_id": "urn:uuid:1", "client_id": "client-1"}),  # receipt at B
    entry(outcome=Outcome.REFUSED, outcome_code="ACCESS_REFUSED"),  # refusal at A
    entry(side=events.REQUESTING, recorder="DE", peer_country="FR", outcome=Outcome.REFUSED,
          outcome_code="ACCESS_REFUSED"),  # refusal relayed at B
    entry(events.IDENTIFY, detail={"matches": 1, "parameters": ["birthdate", "family", "identifier"]}),
    entry(events.IDENTIFY, patient_id=None, detail={"matches": 0, "parameters": ["identifier"]}),
    entry(events.LOGIN, side=None, peer_country=None, patient_id=None, listener="public"),
    entry(events.LOGIN, side=None, peer_country=None, patient_id=None, outcome=Outcome.REFUSED,
          outcome_code="BAD_CREDENTIALS"),
    entry(events.LOGOUT, side=None, peer_country=None, patient_id=None),
    entry(events.TOKEN, side=None, peer_country=None, patient_id=None, actor_type=events.ACTOR_CLIENT,
          actor_role=None, organisation=None, purpose=None),
    entry(events.CONSENT, side=None, peer_country=None, actor_type=events.ACTOR_OPERATOR, listener="cli",
          detail={"consent": "opposed"}),
    entry(events.ACCESS_HISTORY, side=None, peer_country=None, actor_type=events.ACTOR_PATIENT_PORTAL),
    entry(events.EXPORT, side=None, peer_country=None, patient_id=None, actor_type=events.ACTOR_OPERATOR),
    entry("admin.clients.add", side=None, peer_country=None, patient_id=None, actor_type=events.ACTOR_OPERATOR,
          detail={"client_id": "client-1", "scopes": ["system/Patient.read"]}),
    entry(events.API, outcome=Outcome.REFUSED, outcome_code="UNTRUSTED_CERTIFICATE", actor_type=events.ACTOR_NCPEH,
          actor_id=None, patient_id=None, peer_country=None, purpose=None),
    entry(outcome=Outcome.FAILED, outcome_code="PEER_UNAVAILABLE", side=events.REQUESTING),
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda e: f"{e.event}-{e.side}-{e.outcome}")
def test_every_kind_of_record_is_a_valid_r4b_audit_event(any_store, sample):
    store = any_store
    stored = store.audit.append(sample)
    resource = to_fhir(stored, "https://ncp.fr.example")
    model = AuditEvent.model_validate(resource)
    assert model.id == stored.uuid
    assert any(c.code == stored.event for c in model.subtype)
    if stored.request_id:
        assert any(e.type.code == "XrequestId" and e.what.identifier.value == stored.request_id
                   for e in model.entity)
    if stored.outcome != Outcome.SUCCESS:
        assert model.outcomeDesc == (stored.outcome_code or Outcome.label(stored.outcome))
    assert any(a.requestor for a in model.agent)


def test_balp_privacy_disclosure_at_source_and_recipient(any_store):
    store = any_store
    release = to_fhir(store.audit.append(SAMPLES[0]))
    assert release["meta"]["profile"] == [
        "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Source"]
    assert release["type"]["code"] == "110106" and release["action"] == "R"
    assert {"110153", "110152"} <= {a["type"]["coding"][0]["code"] for a in release["agent"]}
    assert release["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"
    patient = [e for e in release["entity"] if e.get("role", {}).get("code") == "1"]
    assert patient[0]["what"]["reference"] == "Patient/abc123"
    receipt = to_fhir(store.audit.append(SAMPLES[1]))
    assert receipt["meta"]["profile"][0].endswith("PrivacyDisclosure.Recipient")
    assert receipt["type"]["code"] == "110107" and receipt["action"] == "C"


def test_identification_query_never_carries_trait_values(any_store):
    store = any_store
    resource = to_fhir(store.audit.append(SAMPLES[4]))
    import base64

    query = [e for e in resource["entity"] if e.get("role", {}).get("code") == "24"][0]
    assert base64.b64decode(query["query"]).decode() == "Patient?birthdate=*&family=*&identifier=*"


def test_parse_when():
    assert parse_when("2026-11-01") == "2026-11-01T00:00:00.000+00:00"
    assert parse_when("2026-11-01T10:00:00+01:00") == "2026-11-01T09:00:00.000+00:00"
    assert parse_when("7d") < parse_when("1h")
    with pytest.raises(ValueError):
        parse_when("last tuesday")


# --- consent changes and the command line --------------------------------------------------------


@pytest.fixture()
def country(tmp_path, monkeypatch):
    monkeypatch.setenv("NCPEH_HOME", str(tmp_path))
    cfg = load_config(country_file("FR"))
    s = storage.open_store(cfg.database_path)
    s.records.save_records([PatientRecord(FR_INS_SYSTEM, INS, "DUPONT", "Marie", "1984-05-12", "female", "75056",
                                          b'{"resourceType": "Bundle", "identifier": {"value": "urn:uuid:d1"}}')])
    patient = s.records.find_by_identifier(FR_INS_SYSTEM, INS)
    s.close()
    return cfg, patient


def run(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def test_consent_change_is_recorded_in_the_same_transaction(country):
    cfg, patient = country
    result = run("consent", "--country", "FR", "--patient", INS, "opposed")
    assert result.exit_code == 0, result.output
    s = storage.open_store(cfg.database_path)
    consent = [e for e in s.audit.entries() if e.event == events.CONSENT]
    assert len(consent) == 1
    assert consent[0].patient_id == patient.id and consent[0].detail["consent"] == "opposed"
    assert consent[0].actor_type == events.ACTOR_OPERATOR and consent[0].listener == "cli"

    # an audit failure rolls the change back
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    import gateway.storage.audit as audit_storage

    original = audit_storage.append_locked
    audit_storage.append_locked = broken
    try:
        with pytest.raises(sqlite3.OperationalError):
            s.records.set_consent(patient.id, "allowed", audit=trail.consent_draft("FR", patient.id, "allowed"))
    finally:
        audit_storage.append_locked = original
    assert s.records.get_patient(patient.id).consent == "opposed"
    s.close()


def test_cli_verify_export_and_admin_actions(country, tmp_path):
    cfg, patient = country
    added = run("clients", "add", "--country", "FR", "--name", "portal", "--scope", "system/AuditEvent.read")
    secret = json.loads(added.output)["client_secret"]
    assert run("audit", "verify", "--country", "FR").exit_code == 0
    out = tmp_path / "export" / "audit.ndjson"
    result = run("audit", "export", "--country", "FR", "--since", "1d", "--output", str(out))
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines, "nothing exported"
    for line in lines:
        AuditEvent.model_validate_json(line)
    assert secret not in out.read_text()
    s = storage.open_store(cfg.database_path)
    kinds = [e.event for e in s.audit.entries()]
    assert "admin.clients.add" in kinds and events.EXPORT in kinds
    s.close()

    # break the chain: verify names the record and exits 1
    s = storage.open_store(cfg.database_path)
    s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    tamper(cfg.database_path, "UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = 1")
    broken = CliRunner().invoke(main, ["audit", "verify", "--country", "FR"])
    assert broken.exit_code == 1
    assert "record #1" in broken.output and "changed" in broken.output


def test_cli_accesses(country):
    cfg, patient = country
    s = storage.open_store(cfg.database_path)
    s.audit.append(entry(patient_id=patient.id, request_id="req-cli-0001"))
    s.audit.append(entry(patient_id=patient.id, outcome=Outcome.REFUSED, outcome_code="ACCESS_REFUSED"))
    s.audit.append(entry(patient_id="someone-else"))
    s.close()
    result = run("audit", "accesses", "--country", "FR", "--patient", INS, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["patient"] == patient.id
    assert [a["outcome"] for a in body["accesses"]] == ["refused", "success"]
    assert body["accesses"][0]["refusal_code"] == "ACCESS_REFUSED"
    assert body["accesses"][1] | {"when": None, "audit_event": None} == {
        "when": None, "access": "summary", "country": "DE", "organisation": "urn:oid:1.2.3", "role": "221",
        "purpose": "TREATMENT", "outcome": "success", "refusal_code": None, "request_id": "req-cli-0001",
        "audit_event": None}
    table = run("audit", "accesses", "--country", "FR", "--patient", patient.id)
    assert "ACCESS_REFUSED" in table.output
    assert run("audit", "accesses", "--country", "FR", "--patient", "999999999999999").exit_code == 1


def test_tampering_on_postgresql_is_detected(pg_cluster):  # noqa: F811 - the fixture
    """A superuser who disables or drops the triggers, or empties their function, is reported; a row changed
    behind the triggers' back breaks the chain; deleted last rows leave the head's high-water mark above."""
    url = fresh_database(pg_cluster)
    store = storage.open_store(url)
    fill(store, 5)
    assert store.audit.trigger_problems() == []
    store.db.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
    assert any("audit_events_no_update is disabled" in p for p in store.audit.trigger_problems())
    store.db.execute("UPDATE audit_events SET outcome = '4' WHERE seq = 2")
    result = verify(store.audit)
    assert not result.ok and any("record #2" in line and "hash mismatch" in line for line in result.lines())
    store.db.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update")
    assert not verify(store.audit).ok  # the changed row stays changed
    store.db.execute("CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql"
                     " AS $$ BEGIN RETURN NEW; END $$")
    assert any("body is not the expected one" in p for p in store.audit.trigger_problems())
    store.db.execute("DROP TRIGGER audit_events_no_delete ON audit_events")
    assert any("audit_events_no_delete is missing" in p for p in store.audit.trigger_problems())
    store.db.execute("DELETE FROM audit_events WHERE seq >= 4")
    assert store.audit.high_water() == 5 and store.audit.count() == 3
    assert not verify(store.audit).ok
    store.close()
