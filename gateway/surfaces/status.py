"""GET /_status on every listener: is this instance able to serve? (503 when a check fails).

Unauthenticated: problems are given as codes; the messages (which name files) go to the log and to
``ncpeh trust-list verify``.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify

from gateway.build_info import version
from gateway.request_store import get_store
from gateway.runtime import runtime
from gateway.security.pki import PKIError, days_left, load_certificate

bp = Blueprint("status", __name__)
log = logging.getLogger("ncpeh.status")
WARN_DAYS = 30


def _certificate_check(path) -> dict:
    try:
        left = days_left(load_certificate(path))
    except PKIError as exc:
        log.error("/_status: %s", exc)  # the file names are for the operators' log, not for anyone asking
        return {"status": "error", "code": "CERTIFICATE_UNREADABLE"}
    status = "error" if left < 0 else "warning" if left < WARN_DAYS else "ok"
    return {"status": status, "days_left": left}


@bp.get("/_status")
def status():
    rt = runtime()
    checks: dict[str, dict] = {}
    store_ok = get_store().ping()
    checks["database"] = {"status": "ok" if store_ok else "error"}
    checks["server_certificate"] = _certificate_check(rt.cfg.certs.server_cert)
    if rt.surface == "ncp":
        checks["client_certificate"] = _certificate_check(rt.cfg.certs.client_cert)
    trust = rt.trust
    if trust is None:
        checks["trust_list"] = {"status": "error", "loaded": False, "code": rt.trust_state.error_code}
    else:
        left = trust.days_left()
        checks["trust_list"] = {
            "status": "warning" if left < 7 else "ok",
            "loaded": True,
            "sequence": trust.sequence,
            "countries": sorted(trust.countries),
            "days_left": left,
        }
        if rt.trust_state.error:  # the file holds a list that was refused (an older sequence): this one stays
            checks["trust_list"].update(status="warning", code=rt.trust_state.error_code)
        # Key rotation: the active signing key must be published before peers accept our assertions.
        own = trust.country(rt.cfg.code)
        published = bool(own and rt.signing_kid in own.signing_keys)
        checks["signing_key"] = {
            "status": "ok" if published else "warning",
            "kid": rt.signing_kid,
            "published": published,
            "published_keys": sorted(own.signing_keys) if own else [],
        }
    checks["audit_anchor"] = rt.anchor.status()  # signed checkpoints of the audit chain (warning when failing)
    if rt.surface == "public":  # the portal's TOTP key beside the database: its backups hold both
        checks["totp_key"] = ({"status": "warning", "code": "TOTP_KEY_IN_DATA_DIR"} if rt.cfg.totp_key_in_data_dir
                              else {"status": "ok"})
    states = {check["status"] for check in checks.values()}
    overall = "error" if "error" in states else "warning" if "warning" in states else "ok"
    body = {
        "status": overall,
        "country": rt.cfg.code,
        "name": rt.cfg.name,
        "listener": rt.surface,
        "version": version(),
        "checks": checks,
    }
    return jsonify(body), (503 if overall == "error" else 200)
