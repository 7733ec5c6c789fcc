"""Clinician portal (public listener). The sign-in and cross-border flow build on this blueprint."""

from __future__ import annotations

from flask import Blueprint, render_template

from gateway.errors import GatewayError
from gateway.runtime import runtime

bp = Blueprint("portal", __name__, template_folder="../templates")


@bp.get("/")
def index():
    rt = runtime()
    trust = rt.trust
    countries = [c for c in (trust.countries.values() if trust else []) if c.code != rt.cfg.code]
    return render_template("portal/index.html", cfg=rt.cfg, countries=countries)


def render_error(error: GatewayError, request_id: str | None):
    body = render_template("portal/error.html", error=error, request_id=request_id, cfg=runtime().cfg)
    return body, error.status, error.headers
