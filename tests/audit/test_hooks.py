"""The request hook: views marked as audited, sign-in records, and no answer without its record."""

from __future__ import annotations

import pytest

from gateway import audit_trail as trail
from gateway import errors, storage
from gateway.app import create_app
from gateway.audit import events
from gateway.audit.events import Outcome
from gateway.storage.audit import AuditStore
from tests.conftest import make_topology


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    topo = make_topology(tmp_path_factory.mktemp("audit-hooks"), ["FR", "DE"])
    topo.prepare()
    cfg = topo.configs["DE"]
    app = create_app(cfg, "public")

    @trail.audited(events.IDENTIFY, events.REQUESTING)
    def portal_search():
        trail.note(actor_type=events.ACTOR_CLINICIAN, actor_id="de-lanr-1", actor_role="221", purpose="TREATMENT",
                   peer_country="FR")
        from flask import request

        if request.args.get("refuse"):
            raise errors.Forbidden("no", code="ROLE_NOT_ALLOWED")
        return "<p>results</p>"

    def sign_in():
        from flask import request

        ok = request.args.get("password") == "right"
        trail.record_login("de-lanr-1", success=ok, code=None if ok else "BAD_CREDENTIALS", role="221",
                           organisation="urn:oid:1.2.3", method="password")
        return ("welcome", 200) if ok else ("denied", 401)

    app.add_url_rule("/test/search", view_func=portal_search)
    app.add_url_rule("/test/sign-in", view_func=sign_in)
    yield app, cfg


def latest(cfg, count=1):
    store = storage.open_store(cfg.database_path)
    try:
        return list(store.audit.entries())[-count:]
    finally:
        store.close()


def test_a_view_marked_audited_records_success_and_refusal(app):
    flask_app, cfg = app
    client = flask_app.test_client()
    resp = client.get("/test/search", headers={"X-Request-ID": "portal-search-0001"}, base_url="https://x")
    assert resp.status_code == 200
    (ok,) = latest(cfg)
    # the public listener's own request id; a caller's value is only recorded beside it
    assert (ok.event, ok.side, ok.outcome, ok.request_id) == (events.IDENTIFY, events.REQUESTING, "0",
                                                              resp.headers["X-Request-ID"])
    assert ok.detail["partner_request_id"] == "portal-search-0001"
    assert (ok.actor_id, ok.actor_role, ok.purpose, ok.peer_country) == ("de-lanr-1", "221", "TREATMENT", "FR")
    resp = client.get("/test/search?refuse=1", base_url="https://x")
    assert resp.status_code == 403
    (refused,) = latest(cfg)
    assert (refused.outcome, refused.outcome_code) == (Outcome.REFUSED, "ROLE_NOT_ALLOWED")


def test_sign_in_success_and_failure_are_recorded(app):
    flask_app, cfg = app
    client = flask_app.test_client()
    assert client.get("/test/sign-in?password=wrong", base_url="https://x").status_code == 401
    assert client.get("/test/sign-in?password=right", base_url="https://x").status_code == 200
    failed, ok = latest(cfg, 2)
    assert (failed.event, failed.outcome, failed.outcome_code) == (events.LOGIN, Outcome.REFUSED, "BAD_CREDENTIALS")
    assert (ok.event, ok.outcome, ok.outcome_code) == (events.LOGIN, Outcome.SUCCESS, None)
    assert "wrong" not in repr(failed) and "right" not in repr(ok)


def test_no_answer_leaves_without_its_audit_record(app, monkeypatch):
    flask_app, cfg = app

    def broken(self, draft):
        raise OSError("disk full")

    monkeypatch.setattr(AuditStore, "append", broken)
    resp = flask_app.test_client().get("/test/search", base_url="https://x")
    assert resp.status_code == 503
    assert b"results" not in resp.data
    assert resp.get_json()["issue"][0]["details"]["coding"][0]["code"] == "AUDIT_UNAVAILABLE"


def test_control_characters_of_an_unauthenticated_caller_are_escaped_in_the_record(app):
    """A claimed client id comes from whoever calls /oauth/token; `ncpeh audit show` prints what is recorded,
    so terminal controls (ESC, C1 CSI, line separators, bidi overrides) must not reach the record as such."""
    flask_app, cfg = app
    claimed = "evil\x1b[2J\x9b31m\u2028\u202eclient\r\nid"
    resp = flask_app.test_client().post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": claimed, "client_secret": "wrong"},
        base_url="https://x")
    assert resp.status_code in (400, 401)
    (record,) = latest(cfg)
    assert record.actor_id is not None and "evil" in record.actor_id
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u202e" for c in record.actor_id)
    assert "\\x1b[2J" in record.actor_id and "\\x9b" in record.actor_id and "\\u202e" in record.actor_id
