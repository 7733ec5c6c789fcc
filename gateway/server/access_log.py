"""gunicorn's access logger, building only the fields the access log line uses.

gunicorn's own ``Logger.atoms`` copies, for every request, every request header, response header
and environ variable into the dict it formats the line from (the bearer token and the assertions
of this gateway's calls included), although :data:`ACCESS_LOG_FORMAT` uses seven fields.

Every text field is written with control characters (C0, DEL, C1), backslash and double quote escaped
as ``\\xNN``: a request path carrying CR, LF or ESC (``%0d%0a``, which gunicorn decodes into PATH_INFO)
cannot forge a line of the log or drive the terminal of whoever reads it.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from gateway import printable

ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
#: what is escaped in a line: what is unprintable (gateway.printable), and the backslash and double quote
_UNSAFE = printable.escaper('\\"')


def escape(value: object) -> str:
    """``value`` as text, safe in a line of the access log (``-`` for None)."""
    return printable.escape("-" if value is None else str(value), _UNSAFE)


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
            "h": escape(environ.get("REMOTE_ADDR", "-")),
            "m": escape(environ.get("REQUEST_METHOD")),
            "U": escape(environ.get("PATH_INFO")),
            "s": escape(status),
            "b": str(sent) if sent is not None else "-",
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
            "{x-request-id}o": escape(request_id),
        }
