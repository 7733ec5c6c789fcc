"""gunicorn's access logger, building only the fields the access log line uses.

gunicorn's own ``Logger.atoms`` copies, for every request, every request header, response header
and environ variable into the dict it formats the line from (the bearer token and the assertions
of this gateway's calls included), although :data:`ACCESS_LOG_FORMAT` uses seven fields.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'


class AccessLogger(glogging.Logger):
    def atoms(self, resp, req, environ, request_time) -> dict[str, Any]:  # noqa: ANN001 - gunicorn's signature
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        request_id = "-"
        for name, value in resp.headers:
            if name.lower() == "x-request-id":
                request_id = value
        sent = getattr(resp, "sent", None)
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "s": status,
            "b": str(sent) if sent is not None else "-",
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
            "{x-request-id}o": request_id,
        }
