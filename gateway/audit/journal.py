"""The system journal (syslog on ``/dev/log``): a second copy of each audit checkpoint, out of the
database writer's reach when syslog ships it off the host. Where there is no ``/dev/log`` (containers,
this test machine) nothing is sent; a line syslog did not take is reported as not delivered."""

from __future__ import annotations

import logging
import logging.handlers
import os
import threading

DEV_LOG = "/dev/log"


class _SysLogHandler(logging.handlers.SysLogHandler):
    """A SysLogHandler that remembers a failed delivery: ``emit`` hands every error to ``handleError``
    (which would otherwise print it to stderr and carry on)."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.failed = True


class Journal:
    """Sends lines to syslog (facility ``authpriv``, tag ``ncpeh-audit``) when ``address`` exists."""

    def __init__(self, address: str = DEV_LOG) -> None:
        self.address = address
        self._handler: _SysLogHandler | None = None
        self._lock = threading.Lock()
        #: Whether the last line sent was delivered (None: nothing sent yet).
        self.delivered: bool | None = None

    @property
    def available(self) -> bool:
        return os.path.exists(self.address)

    def send(self, message: str) -> bool:
        """Whether syslog took the line (False: no syslog socket here, or nobody reading it)."""
        if not self.available:
            self.delivered = False
            return False
        with self._lock:
            if self._handler is None:
                self._handler = _SysLogHandler(address=self.address,
                                               facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV)
                self._handler.ident = "ncpeh-audit: "
            self._handler.failed = False
            self._handler.emit(logging.makeLogRecord({"msg": message, "levelno": logging.INFO,
                                                      "levelname": "INFO"}))
            self.delivered = not self._handler.failed
            if not self.delivered:  # connect afresh next time (syslog restarted)
                self._handler.close()
                self._handler = None
        return self.delivered
