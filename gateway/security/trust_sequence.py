"""The highest trust-list sequence a country's instances accepted, kept on disk.

Kept in memory only, a restarted instance (or one that never saw the newer list) would take an older
signed list put back in place, e.g. one that still names a removed country. The file
(``<data_dir>/trust-list-sequence``, mode 0600, one decimal number) is shared by every instance of the
country; writers hold an exclusive ``flock`` so that the number only grows, whichever process writes.
``ncpeh trust-list accept`` is the operators' explicit way to set it to the list in place (e.g. after
the central list was lost and re-signed from sequence 1).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

FILE_NAME = "trust-list-sequence"


class SequenceStateError(Exception):
    """The file exists but does not hold a sequence number (fail closed: no list is taken)."""


def _parse(path: Path, text: str) -> int:
    text = text.strip()
    if not text:
        return -1  # created by a writer that has not written yet
    if not text.isascii() or not text.isdigit():
        raise SequenceStateError(f"{path}: does not hold a trust list sequence number "
                                 "(run 'ncpeh trust-list accept' to record the list in place)")
    return int(text)


class SequenceState:
    """One country's highest accepted sequence (``-1``: none recorded yet)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> SequenceState:
        return cls(data_dir / FILE_NAME)

    def highest(self) -> int:
        try:
            with open(self.path, "rb") as fh:
                fcntl.flock(fh, fcntl.LOCK_SH)
                raw = fh.read(64)
        except FileNotFoundError:
            return -1
        except OSError as exc:
            raise SequenceStateError(f"{self.path}: cannot read ({exc.strerror})") from None
        try:
            return _parse(self.path, raw.decode("ascii"))
        except UnicodeDecodeError:
            raise SequenceStateError(f"{self.path}: does not hold a trust list sequence number") from None

    def _write(self, sequence: int, *, only_higher: bool) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            current = -1
            if only_higher:
                try:
                    current = _parse(self.path, os.read(fd, 64).decode("ascii"))
                except (SequenceStateError, UnicodeDecodeError):
                    current = -1  # callers read highest() first: garbage here is replaced
            if sequence > current:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{sequence}\n".encode(), 0)
                os.fsync(fd)
                current = sequence
            return current
        finally:
            os.close(fd)

    def raise_to(self, sequence: int) -> int:
        """Record ``sequence`` unless a higher one is recorded; returns the highest recorded."""
        return self._write(sequence, only_higher=True)

    def reset(self, sequence: int) -> None:
        """The operator's explicit acceptance of ``sequence`` (may be lower than the one recorded)."""
        self._write(sequence, only_higher=False)
