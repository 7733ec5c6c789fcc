"""The system journal (syslog on ``/dev/log``): a second copy of each audit checkpoint, out of the
database writer's reach. Where there is no ``/dev/log`` (containers, this test machine) nothing is sent."""

from __future__ import annotations

import logging
import logging.handlers
import os
import threading

DEV_LOG = "/dev/log"


class Journal:
    """Sends lines to syslog (facility ``authpriv``, tag ``ncpeh-audit``) when ``address`` exists."""

    def __init__(self, address: str = DEV_LOG) -> None:
        self.address = address
        self._handler: logging.handlers.SysLogHandler | None = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return os.path.exists(self.address)

    def send(self, message: str) -> bool:
        """Whether the line was handed to syslog (False: no syslog socket here)."""
        if not self.available:
            return False
        with self._lock:
            if self._handler is None:
                self._handler = logging.handlers.SysLogHandler(
                    address=self.address, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV)
                self._handler.ident = "ncpeh-audit: "
            self._handler.emit(logging.makeLogRecord({"msg": message, "levelno": logging.INFO,
                                                      "levelname": "INFO"}))
        return True
