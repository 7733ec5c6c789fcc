"""Recording audit records: from a request (one per call of the FHIR APIs), from the CLI, in a transaction.

Within a request, handlers only *describe* what happened with :func:`note`; one ``after_request``
hook (:func:`init_app`) writes the record of every call of the NCPeH-to-NCPeH API and of the
partner API - successes, refusals raised as ``GatewayError`` anywhere (before_request included) and
unexpected errors alike - and commits it before the response leaves. When the record cannot be
written, the response is replaced by a 503 (no data leaves without its audit record).

Other code calls :func:`record` (write one record now), :func:`record_login` / :func:`record_logout`
(portal sign-in), :func:`record_admin` (command line) or builds a draft with :func:`draft` and
hands it to ``RecordStore.set_consent`` (recorded in the same transaction as the change).
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request

from gateway.audit import events
from gateway.audit.chain import GENESIS, AuditEntry
from gateway.audit.events import Outcome

log = logging.getLogger("ncpeh.audit")

MAX_TEXT = 200
#: Keys never accepted in ``detail`` (identity traits, clinical content, secrets): silently dropped.
FORBIDDEN_DETAIL = frozenset({
    "family", "given", "name", "names", "birthdate", "birthDate", "birthplace", "gender", "address",
    "password", "secret", "client_secret", "token", "access_token", "assertion", "authorization",
    "document", "summary", "bundle", "resource", "traits_values",
})

#: Calls of the FHIR APIs and what they are.
AUDITED_ENDPOINTS: dict[str, tuple[str, str | None]] = {
    "ncp_api.search_patient": (events.IDENTIFY, events.RESPONDING),
    "ncp_api.patient_summary": (events.SUMMARY, events.RESPONDING),
    "partner_api.search_patient": (events.IDENTIFY, events.REQUESTING),
    "partner_api.patient_summary": (events.SUMMARY, events.REQUESTING),
    "partner_api.summary_by_identifier": (events.SUMMARY, events.REQUESTING),  # POST Patient/$summary
    "oauth.token": (events.TOKEN, None),
    "patient_portal.history": (events.ACCESS_HISTORY, None),
}
#: Blueprints whose every refusal is recorded (even on endpoints not listed above).
AUDITED_BLUEPRINTS = {"ncp_api": events.RESPONDING, "partner_api": events.REQUESTING}
#: Blueprints whose authentication and authorisation refusals are recorded (an invalid or revoked token,
#: a missing scope, a spent rate limit): the terminology operations, which hold no patient data.
AUDITED_AUTH_REFUSALS = frozenset({"terminology_api"})
_AUTH_REFUSAL_STATUSES = frozenset({401, 403, 429})

_DEFAULT_ACTION = {
    events.SUMMARY: "R", events.CONSENT: "U", events.ACCESS_HISTORY: "R", events.EXPORT: "R",
}
_NOTE_KEYS = frozenset({
    "event", "side", "peer_country", "actor_type", "actor_id", "actor_role", "organisation", "purpose",
    "patient_id", "outcome_code", "action", "detail", "skip",
})


def utcnow() -> str:
    from gateway.storage.records import utcnow as now

    return now()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\n", " ").replace("\r", " ")
    return text[:MAX_TEXT]


def _clean(value: Any, depth: int = 0) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list | tuple | set | frozenset) and depth < 2:
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        return [_clean(v, depth + 1) for v in items[:50]]
    if isinstance(value, Mapping) and depth < 2:
        return clean_detail(value, depth + 1)
    return _text(value)


def clean_detail(detail: Mapping[str, Any] | None, depth: int = 0) -> dict[str, Any]:
    """Identifiers only: drop forbidden keys, clip long strings, keep JSON scalars and short lists."""
    out: dict[str, Any] = {}
    for key, value in (detail or {}).items():
        if key in FORBIDDEN_DETAIL:
            log.warning("audit: dropped forbidden detail key %r", key)
            continue
        out[str(key)[:60]] = _clean(value, depth)
    return out


def draft(
    event: str,
    *,
    recorder: str,
    listener: str,
    outcome: str = Outcome.SUCCESS,
    outcome_code: str | None = None,
    action: str | None = None,
    request_id: str | None = None,
    side: str | None = None,
    peer_country: str | None = None,
    actor_type: str = events.ACTOR_SYSTEM,
    actor_id: str | None = None,
    actor_role: str | None = None,
    organisation: str | None = None,
    purpose: str | None = None,
    patient_id: str | None = None,
    network: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """A record not yet chained (``seq``, ``prev_hash`` and ``hash`` are set when it is appended)."""
    if not events.is_known(event):
        raise ValueError(f"unknown audit event {event!r}")
    if outcome not in Outcome.ALL:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    return AuditEntry(
        seq=0,
        uuid=str(uuid.uuid4()),
        recorded=utcnow(),
        recorder=recorder,
        listener=listener,
        event=event,
        action=action or _DEFAULT_ACTION.get(event, "E"),
        outcome=outcome,
        outcome_code=_text(outcome_code),
        request_id=_text(request_id),
        side=side,
        peer_country=_text(peer_country.upper() if peer_country else None),
        actor_type=actor_type,
        actor_id=_text(actor_id),
        actor_role=_text(actor_role),
        organisation=_text(organisation),
        purpose=_text(purpose),
        patient_id=_text(patient_id),
        network=_text(network),
        detail=clean_detail(detail),
        prev_hash=GENESIS,
    )


# --- inside a request ------------------------------------------------------------------------------


def note(**fields: Any) -> None:
    """Describe the current request for its audit record (merged; ``detail`` is merged key by key).

    Keys: ``event``, ``side``, ``peer_country``, ``actor_type``, ``actor_id``, ``actor_role``,
    ``organisation``, ``purpose``, ``patient_id``, ``outcome_code``, ``action``, ``detail`` (dict of
    identifiers) and ``skip=True`` (no record for this request). Outside a request it does nothing.
    """
    if not has_request_context():
        return
    unknown = set(fields) - _NOTE_KEYS
    if unknown:
        raise ValueError(f"unknown audit note field(s): {', '.join(sorted(unknown))}")
    current = g.setdefault("audit_note", {})
    detail = fields.pop("detail", None)
    current.update(fields)
    if detail:
        current.setdefault("detail", {}).update(detail)


def _surface() -> str:
    from gateway.runtime import runtime

    return runtime().surface


def _request_defaults() -> dict[str, Any]:
    from gateway.runtime import runtime

    rt = runtime()
    return {
        "recorder": rt.cfg.code,
        "listener": rt.surface,
        "request_id": getattr(g, "request_id", None),
        "network": request.remote_addr,
    }


def record(event: str, *, store=None, **fields: Any) -> AuditEntry:  # noqa: ANN001 - a storage.Store
    """Write one record now and commit it before returning.

    In a request, recorder, listener, request id and the caller's address are filled in and the
    request's store is used; from the command line pass ``store``, ``recorder`` and ``listener``.
    """
    if has_request_context():
        from gateway.storage import get_store

        fields = {**_request_defaults(), **fields}
        store = store or get_store()
    if store is None:
        raise ValueError("audit.record outside a request needs a store")
    entry = store.audit.append(draft(event, **fields))
    if has_request_context():
        _anchor(entry.seq)
    return entry


def record_login(user_id: str, *, success: bool, code: str | None = None, role: str | None = None,
                 organisation: str | None = None, method: str | None = None) -> AuditEntry:
    """A clinician's sign-in attempt on the portal (call it before answering; never pass a password).

    ``code`` says why a sign-in failed (``BAD_CREDENTIALS``, ``ACCOUNT_LOCKED``, ``ROLE_NOT_ALLOWED``...).
    """
    return record(
        events.LOGIN,
        outcome=Outcome.SUCCESS if success else Outcome.REFUSED,
        outcome_code=None if success else (code or "SIGN_IN_FAILED"),
        actor_type=events.ACTOR_CLINICIAN,
        actor_id=user_id,
        actor_role=role,
        organisation=organisation,
        detail={"method": method} if method else None,
    )


def record_logout(user_id: str) -> AuditEntry:
    return record(events.LOGOUT, actor_type=events.ACTOR_CLINICIAN, actor_id=user_id)


def operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "unknown"


def record_admin(store, recorder: str, command: str, *, detail: Mapping[str, Any] | None = None,  # noqa: ANN001
                 outcome: str = Outcome.SUCCESS, outcome_code: str | None = None,
                 patient_id: str | None = None, action: str | None = None) -> AuditEntry:
    """An administrative action from the command line (``command`` like ``clients.add``)."""
    return store.audit.append(draft(
        events.ADMIN_PREFIX + command, recorder=recorder, listener="cli", outcome=outcome,
        outcome_code=outcome_code, actor_type=events.ACTOR_OPERATOR, actor_id=operator(),
        patient_id=patient_id, action=action, detail=detail,
    ))


def consent_draft(recorder: str | None, patient_id: str, consent: str, **fields: Any) -> AuditEntry:
    """The record of a consent change, for ``RecordStore.set_consent(..., audit=...)``.

    In a request the recorder, request id, listener and caller address are filled in unless given.
    """
    if has_request_context():
        defaults = _request_defaults()
        recorder = recorder or defaults.pop("recorder")
        defaults.pop("recorder", None)
        fields = {**defaults, **fields}
    recorder = recorder or "unknown"
    fields.setdefault("listener", "cli")
    if fields["listener"] == "cli":
        fields.setdefault("actor_type", events.ACTOR_OPERATOR)
        fields.setdefault("actor_id", operator())
    detail = {"consent": consent, **fields.pop("detail", {})}
    return draft(events.CONSENT, recorder=recorder, patient_id=patient_id, detail=detail, **fields)


# --- the after_request hook ----------------------------------------------------------------------


def _error_code(resp: Response) -> str | None:
    from gateway.fhir import error_code

    code = g.get("audit_error_code")  # set by gateway.app.render_error for every GatewayError
    if code:
        return code
    body = resp.get_json(silent=True) if not resp.is_streamed else None
    if not isinstance(body, dict):
        return None
    if body.get("resourceType") == "OperationOutcome":
        return error_code(body)
    if isinstance(body.get("error"), str):  # OAuth 2.0 error
        return body["error"]
    return None


def _certificate_digest() -> str | None:
    from gateway.server.worker import ENVIRON_KEY

    der = request.environ.get(ENVIRON_KEY)
    return hashlib.sha256(der).hexdigest() if der else None


def _records_unlisted(side: str | None, status: int) -> bool:
    """Whether a call of an endpoint not in AUDITED_ENDPOINTS (and not noted as an event) is recorded."""
    if side == events.RESPONDING:
        return True  # every call of another NCPeH
    if side == events.REQUESTING:
        return status >= 400  # partner API metadata and the like are not security-relevant; refusals are
    return request.blueprint in AUDITED_AUTH_REFUSALS and status in _AUTH_REFUSAL_STATUSES


def _request_record(resp: Response) -> AuditEntry | None:
    """The record this request needs, or None."""
    noted: dict[str, Any] = dict(g.pop("audit_note", None) or {})
    if noted.pop("skip", False):
        return None
    endpoint = request.endpoint or ""
    mapped = AUDITED_ENDPOINTS.get(endpoint)
    side = AUDITED_BLUEPRINTS.get(request.blueprint or "")
    if mapped is None and not noted.get("event"):
        if side is None and request.blueprint is None and resp.status_code >= 400 and _surface() == "ncp":
            side = events.RESPONDING  # no route matched on the NCPeH listener (404, 405): a probe, recorded
        if not _records_unlisted(side, resp.status_code):
            return None
    event, mapped_side = mapped or (events.API, side)
    fields: dict[str, Any] = {"event": event, "side": mapped_side, **noted}
    view_args = request.view_args or {}
    fields.setdefault("patient_id", view_args.get("patient_id"))
    detail = dict(fields.pop("detail", None) or {})
    detail.setdefault("method", request.method)
    detail.setdefault("endpoint", endpoint or None)
    if resp.status_code >= 400:
        detail["status"] = resp.status_code
        fields.setdefault("outcome_code", _error_code(resp))
    if fields.get("side") == events.RESPONDING:
        hcp = getattr(g, "hcp_assertion", None)  # verified HCP assertion (identifiers only, no token)
        if isinstance(hcp, Mapping):
            fields.setdefault("actor_type", events.ACTOR_CLINICIAN)
            fields.setdefault("actor_id", hcp.get("sub"))
            fields.setdefault("actor_role", hcp.get("role"))
            fields.setdefault("organisation", hcp.get("organisation_id") or hcp.get("organisation"))
            fields.setdefault("purpose", hcp.get("purpose"))
            detail.setdefault("hcp_assertion_jti", hcp.get("jti"))
        peer = getattr(g, "peer_country", None)
        if peer is not None:
            fields.setdefault("peer_country", peer.code)
            fields.setdefault("actor_type", events.ACTOR_NCPEH)
            fields.setdefault("actor_id", f"NCPeH-{peer.code}")
        else:
            detail.setdefault("client_certificate_sha256", _certificate_digest())
    elif fields.get("side") == events.REQUESTING and not fields.get("peer_country"):
        country = request.args.get("country", "")
        patient = str(fields.get("patient_id") or "")
        if len(country) == 2:
            fields["peer_country"] = country
        elif len(patient) > 3 and patient[2] == "-":
            fields["peer_country"] = patient[:2]
    fields.setdefault("actor_type", events.ACTOR_CLIENT if request.blueprint != "ncp_api" else events.ACTOR_NCPEH)
    event = fields.pop("event")
    return draft(
        event,
        outcome=Outcome.for_status(resp.status_code),
        detail={k: v for k, v in detail.items() if v is not None},
        **_request_defaults(),
        **fields,
    )


def _audit_unavailable() -> Response:
    from gateway import errors
    from gateway.fhir import fhir_response, operation_outcome

    error = errors.ServiceUnavailable("The audit trail cannot be written: the request was not carried out.",
                                      code="AUDIT_UNAVAILABLE")
    return fhir_response(operation_outcome(error, getattr(g, "request_id", None)), status=error.status)


def _after_request(resp: Response) -> Response:
    if g.get("audit_done"):
        return resp
    g.audit_done = True
    try:
        entry = _request_record(resp)
        if entry is None:
            return resp
        from gateway import timing
        from gateway.storage import get_store

        with timing.stage("audit"):
            stored = get_store().audit.append(entry)
    except Exception:  # noqa: BLE001 - whatever failed, nothing leaves unaudited
        log.exception("audit record could not be written (request id %s)", getattr(g, "request_id", "-"))
        return _audit_unavailable()
    _anchor(stored.seq)
    return resp


def _anchor(seq: int) -> None:
    """Tell this process's checkpoint writer a record was committed (after the commit; never raises)."""
    try:
        current_app.extensions["ncpeh"].anchor.noticed(seq)  # the Runtime (gateway.runtime not imported: CLI start-up)
    except Exception:  # noqa: BLE001 - the record is written; anchoring it later must not fail the request
        log.exception("audit checkpoint writer not reached")


def init_app(app: Flask) -> None:
    """Record every call of the FHIR APIs (and of whatever called :func:`note`) before it is answered."""
    app.after_request(_after_request)


def document_identifier(document: bytes | dict | None) -> str | None:
    """``Bundle.identifier.value`` of a summary document (the id both sides record), if any."""
    if document is None:
        return None
    try:
        if isinstance(document, bytes | bytearray):
            import orjson

            document = orjson.loads(document)
        identifier = document.get("identifier") or {}  # type: ignore[union-attr]
        value = identifier.get("value") if isinstance(identifier, dict) else None
        return str(value) if value else None
    except Exception:  # noqa: BLE001 - an unreadable document simply has no id to record
        return None


def digest(body: bytes | dict) -> str:
    """SHA-256 of the bytes that leave (``fhir_response`` serialises dicts with orjson, as here)."""
    if not isinstance(body, bytes | bytearray):
        from gateway.fhir import dumps

        body = dumps(body)
    return hashlib.sha256(body).hexdigest()


def audited(event: str, side: str | None = None):  # noqa: ANN201 - a view decorator
    """Mark a view (e.g. the portal's cross-border search and summary) as producing ``event``: its
    success or refusal is then recorded by the after_request hook, like the FHIR APIs' calls."""
    import functools

    def decorator(view):  # noqa: ANN001, ANN202
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):  # noqa: ANN202
            note(event=event, side=side)
            return view(*args, **kwargs)

        return wrapper

    return decorator
