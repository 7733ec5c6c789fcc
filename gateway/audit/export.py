"""``ncpeh audit export``: the audit trail as NDJSON of FHIR AuditEvents (one resource per line)."""

from __future__ import annotations

import datetime as dt
import re
from typing import BinaryIO

import orjson

from gateway.audit.fhir import to_fhir

_RELATIVE = re.compile(r"^(\d+)([hdw])$", re.ASCII)


def parse_when(value: str, *, now: dt.datetime | None = None) -> str:
    """``2026-11-23``, an ISO timestamp, or ``24h`` / ``7d`` / ``2w`` ago -> a UTC ISO timestamp."""
    value = value.strip()
    now = now or dt.datetime.now(dt.UTC)
    match = _RELATIVE.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"h": dt.timedelta(hours=amount), "d": dt.timedelta(days=amount),
                 "w": dt.timedelta(weeks=amount)}[unit]
        moment = now - delta
    else:
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD), a timestamp or a duration like 7d") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def export_ndjson(audit, out: BinaryIO, *, since: str | None = None, until: str | None = None,  # noqa: ANN001
                  own_url: str | None = None) -> int:
    """Write the records recorded in [since, until) as AuditEvents; returns how many."""
    count = 0
    for entry in audit.entries(since=since, until=until):
        out.write(orjson.dumps(to_fhir(entry, own_url)) + b"\n")
        count += 1
    out.flush()
    return count
