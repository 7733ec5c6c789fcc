"""Recording audit records: from a request (one per call of the FHIR APIs), from the CLI, in a transaction.

Within a request, handlers only *describe* what happened with :func:`note`; one ``after_request``
hook (:func:`init_app`) writes the record of every call of the NCPeH-to-NCPeH API and of the
partner API - successes, refusals raised as ``GatewayError`` anywhere (before_request included) and
unexpected errors alike - and commits it before the response leaves. When the record cannot be
written, the response is replaced by a 503 (no data leaves without its audit record).

What a call is comes from its view: every view of an API blueprint declares :func:`audited` (its
event) or :func:`not_audited` (why none), and ``gateway.app.register_api`` refuses to start the app
when one does not; the blueprint's :class:`BlueprintRule` says which refusals are recorded besides.

Other code calls :func:`record` (write one record now), :func:`record_login` / :func:`record_logout`
(portal sign-in), :func:`record_admin` (command line) or builds a draft with :func:`draft` and
hands it (:func:`consent_draft`) to ``RecordStore.set_consent`` (recorded in the same transaction).
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, has_request_context, request

from gateway import errors, printable, timing
from gateway.audit import events
from gateway.audit.chain import GENESIS, AuditEntry
from gateway.audit.events import Outcome
from gateway.fhir import dumps, error_code, loads, outcome_response
from gateway.records.local_ids import parse_local_id
from gateway.request_store import get_store
from gateway.security.tls import PEER_CERT_ENVIRON
from gateway.storage.records import utcnow

log = logging.getLogger("ncpeh.audit")

MAX_TEXT = 200
#: Keys never accepted in ``detail`` (identity traits, clinical content, secrets): silently dropped.
FORBIDDEN_DETAIL = frozenset({
    "family", "given", "name", "names", "birthdate", "birthDate", "birthplace", "gender", "address",
    "password", "secret", "client_secret", "token", "access_token", "assertion", "authorization",
    "document", "summary", "bundle", "resource", "traits_values",
})

#: Statuses of the refusals recorded by a blueprint whose rule is "authentication refusals only".
AUTH_REFUSALS = frozenset({401, 403, 429})
#: The attribute a view's audit declaration is kept in (set by :func:`audited` and :func:`not_audited`).
_DECLARATION = "ncpeh_audit"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Declaration:
    """What a view records: ``event`` (and ``side``), or nothing (``event`` None, ``reason`` says why)."""

    event: str | None
    side: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class BlueprintRule:
    """What an API blueprint records beyond its views' declarations (set up by ``register_api``).

    ``side``: the side of its records; refusals of a view declared :func:`not_audited` are recorded as
    ``events.API`` (every call at all on the responding side). ``refusals``: with no side, only refusals
    with one of these statuses are recorded (the terminology operations: authentication refusals).
    ``actor_type``: who calls it, unless the call says more (a verified clinician).
    """

    side: str | None = None
    refusals: frozenset[int] = frozenset()
    actor_type: str = events.ACTOR_CLIENT


_DEFAULT_ACTION = {
    events.SUMMARY: "R", events.CONSENT: "U", events.ACCESS_HISTORY: "R", events.EXPORT: "R",
}
_NOTE_KEYS = frozenset({
    "event", "side", "peer_country", "actor_type", "actor_id", "actor_role", "organisation", "purpose",
    "patient_id", "outcome_code", "action", "detail", "skip",
})


def _text(value: Any) -> str | None:
    """A value as recorded: text of at most MAX_TEXT characters, what could act on a terminal escaped
    (gateway.printable; values such as a claimed client id come from unauthenticated callers and are printed by
    ``ncpeh audit show``)."""
    if value is None:
        return None
    return printable.escape(str(value))[:MAX_TEXT]


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


def note_error(code: str) -> None:
    """The refusal code of the error this request ends with (``gateway.app.render_error``), unless the view
    already noted one. Outside a request it does nothing."""
    if has_request_context():
        g.setdefault("audit_note", {}).setdefault("outcome_code", code)


def _runtime() -> Any:
    """The app's ``gateway.runtime.Runtime`` (not imported: the command line records without one)."""
    return current_app.extensions["ncpeh"]


def _request_defaults() -> dict[str, Any]:
    rt = _runtime()
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


# --- declarations and the after_request hook --------------------------------------------------


def audited(event: str, side: str | None = None) -> Callable[[F], F]:
    """Declare the audit event of a view: each call (success or refusal) is recorded as ``event``.

    On an API blueprint (``gateway.app.register_api``) the declaration is read by the after_request
    hook from the view itself, so a refusal before the view runs is recorded as ``event`` too and a
    renamed view keeps its audit. Elsewhere (the portal) the event is noted when the view runs.
    """
    if not events.is_known(event):
        raise ValueError(f"unknown audit event {event!r}")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            note(event=event, side=side)
            return view(*args, **kwargs)

        setattr(wrapper, _DECLARATION, Declaration(event, side))
        return wrapper  # type: ignore[return-value]

    return decorator


def not_audited(reason: str) -> Callable[[F], F]:
    """Declare that a view of an API blueprint records no event of its own (``reason`` says why); its
    blueprint's rule still records its refusals."""
    if not reason.strip():
        raise ValueError("not_audited needs a reason")

    def decorator(view: F) -> F:
        setattr(view, _DECLARATION, Declaration(None, reason=reason))
        return view

    return decorator


def declaration(view: Callable[..., Any] | None) -> Declaration | None:
    """The audit declaration of a view function, if it has one."""
    return getattr(view, _DECLARATION, None)


def undeclared_views(app: Flask, blueprint: str) -> list[str]:
    """Endpoints of ``blueprint`` in ``app`` whose view declares neither :func:`audited` nor :func:`not_audited`."""
    return sorted(endpoint for endpoint, view in app.view_functions.items()
                  if endpoint.startswith(blueprint + ".") and declaration(view) is None)


def register_blueprint_rule(app: Flask, blueprint: str, rule: BlueprintRule) -> None:
    """Record the calls of ``blueprint`` by its views' declarations and ``rule``; refuses (ValueError)
    when one of its views declares nothing: an API view is never silently left unaudited."""
    missing = undeclared_views(app, blueprint)
    if missing:
        raise ValueError(f"API view(s) without an audit declaration (@audited or @not_audited): {', '.join(missing)}")
    app.extensions.setdefault("ncpeh_audit_rules", {})[blueprint] = rule


def _rule() -> BlueprintRule | None:
    return current_app.extensions.get("ncpeh_audit_rules", {}).get(request.blueprint or "")


def _error_code(resp: Response) -> str | None:
    body = resp.get_json(silent=True) if not resp.is_streamed else None
    if not isinstance(body, dict):
        return None
    if body.get("resourceType") == "OperationOutcome":
        return error_code(body)
    if isinstance(body.get("error"), str):  # OAuth 2.0 error
        return body["error"]
    return None


def _certificate_digest() -> str | None:
    der = request.environ.get(PEER_CERT_ENVIRON)
    return hashlib.sha256(der).hexdigest() if der else None


def _records_undeclared(rule: BlueprintRule | None, side: str | None, status: int) -> bool:
    """Whether a call without an event of its own (declared or noted) is recorded."""
    if side == events.RESPONDING:
        return True  # every call of another NCPeH
    if side == events.REQUESTING:
        return status >= 400  # partner API metadata and the like are not security-relevant; refusals are
    return rule is not None and status in rule.refusals


def _request_record(resp: Response) -> AuditEntry | None:
    """The record this request needs, or None."""
    noted: dict[str, Any] = dict(g.pop("audit_note", None) or {})
    if noted.pop("skip", False):
        return None
    endpoint = request.endpoint or ""
    rule = _rule()
    declared = declaration(current_app.view_functions.get(endpoint)) if rule is not None else None
    mapped = (declared.event, declared.side) if declared is not None and declared.event else None
    side = rule.side if rule is not None else None
    if mapped is None and not noted.get("event"):
        if side is None and request.blueprint is None and resp.status_code >= 400 and _runtime().surface == "ncp":
            side = events.RESPONDING  # no route matched on the NCPeH listener (404, 405): a probe, recorded
        if not _records_undeclared(rule, side, resp.status_code):
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
    principal = g.get("principal")  # gateway.security.principal.Principal, set by the blueprint's authentication
    if fields.get("side") == events.RESPONDING:
        hcp = principal.hcp if principal is not None else None  # verified HCP assertion (identifiers only)
        if isinstance(hcp, Mapping):
            fields.setdefault("actor_type", events.ACTOR_CLINICIAN)
            fields.setdefault("actor_id", hcp.get("sub"))
            fields.setdefault("actor_role", hcp.get("role"))
            fields.setdefault("organisation", hcp.get("organisation_id") or hcp.get("organisation"))
            fields.setdefault("purpose", hcp.get("purpose"))
            detail.setdefault("hcp_assertion_jti", hcp.get("jti"))
        trc = principal.trc if principal is not None else None  # verified TRC assertion: one per call and attempt
        if isinstance(trc, Mapping):
            detail.setdefault("trc_assertion_jti", trc.get("jti"))
        peer = principal.country if principal is not None else None
        if peer is not None:
            fields.setdefault("peer_country", peer.code)
            fields.setdefault("actor_type", events.ACTOR_NCPEH)
            fields.setdefault("actor_id", f"NCPeH-{peer.code}")
        else:
            detail.setdefault("client_certificate_sha256", _certificate_digest())
    elif fields.get("side") == events.REQUESTING and not fields.get("peer_country"):
        country = request.args.get("country", "")
        local = parse_local_id(str(fields.get("patient_id") or ""))
        if len(country) == 2:
            fields["peer_country"] = country
        elif local is not None:
            fields["peer_country"] = local[0]
    fields.setdefault("actor_type", rule.actor_type if rule is not None else events.ACTOR_CLIENT)
    event = fields.pop("event")
    return draft(
        event,
        outcome=Outcome.for_status(resp.status_code),
        detail={k: v for k, v in detail.items() if v is not None},
        **_request_defaults(),
        **fields,
    )


def _audit_unavailable() -> Response:
    error = errors.ServiceUnavailable("The audit trail cannot be written: the request was not carried out.",
                                      code="AUDIT_UNAVAILABLE")
    return outcome_response(error, getattr(g, "request_id", None))


def _after_request(resp: Response) -> Response:
    if g.get("audit_done"):
        return resp
    g.audit_done = True
    try:
        entry = _request_record(resp)
        if entry is None:
            return resp
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
        _runtime().anchor.noticed(seq)
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
            document = loads(document)
        identifier = document.get("identifier") or {}  # type: ignore[union-attr]
        value = identifier.get("value") if isinstance(identifier, dict) else None
        return str(value) if value else None
    except Exception:  # noqa: BLE001 - an unreadable document simply has no id to record
        return None


def digest(body: bytes | dict) -> str:
    """SHA-256 of the bytes that leave (``fhir_response`` serialises dicts with orjson, as here)."""
    if not isinstance(body, bytes | bytearray):
        body = dumps(body)
    return hashlib.sha256(body).hexdigest()
