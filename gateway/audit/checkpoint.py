"""Signed checkpoints of the audit chain, kept outside the database.

Whoever can write the database file can rewrite the chain consistently (change a record, recompute
every later hash, drop the newest records and lower ``sqlite_sequence``): the chain alone then looks
intact. A checkpoint is this NCPeH's statement, signed with its signing key (compact JWS, ES256,
``typ: ncpeh-audit-checkpoint+jwt``), that at ``at`` its chain held ``count`` records ending with record
``seq`` whose hash was ``head``; ``prev`` is the SHA-256 of the previous line of the file (:data:`GENESIS`
for the first), so the checkpoints form a chain of their own.

Checkpoints are appended, one per line, to a file opened with ``O_APPEND`` (mode 0600) under an
exclusive ``flock``: every process of the country (workers of both listeners, the command line) reads
the last line and the chain's head and appends under that lock, so the file never forks and its
sequence numbers never go down. Operators make the file append-only (``chattr +a``), keep it on another
volume and ship it off the host; each line also goes to the system journal (:mod:`.journal`).

:func:`check` compares a checkpoint file with the chain: a checkpoint beyond the chain's end
(truncation), a different hash at a checkpointed record (rewrite), a line that is not a valid
signature by a known key, or a line that does not follow the previous one, each give one line.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import re
import struct
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.exceptions import DecodeError

from gateway.audit.chain import GENESIS
from gateway.security import jws

TYP = "ncpeh-audit-checkpoint+jwt"
VERSION = 1
#: The longest line read back (a checkpoint is about 600 bytes).
_TAIL_BYTES = 16384
#: How much later than ``checkpoint_seconds`` a record may still be unanchored (a record's time is taken
#: when its request is recorded, before it is committed; the checkpoint thread's wake-up and signing).
DELAY_MARGIN_SECONDS = 30.0
#: Linux ``FS_IOC_GETFLAGS`` (``_IOR('f', 1, long)``) and ``FS_APPEND_FL`` (``chattr +a``).
_FS_IOC_GETFLAGS = (2 << 30) | (struct.calcsize("l") << 16) | (ord("f") << 8) | 1
_FS_APPEND_FL = 0x20
#: What a filesystem without inode flags (procfs, older tmpfs, overlay on some kernels...) answers.
_NO_FLAGS = frozenset({errno.ENOTTY, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS})
#: A compact JWS, the last word of a line of a copy (``checkpoint FR <jws>`` as the journal has it).
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class CheckpointError(Exception):
    """A checkpoint line that cannot be trusted (unreadable, unsigned, signed by an unknown key, altered)."""


@dataclass(frozen=True)
class Checkpoint:
    country: str
    seq: int
    head: str
    count: int
    at: str
    prev: str

    def claims(self) -> dict[str, Any]:
        return {"iss": self.country, "seq": self.seq, "head": self.head, "count": self.count, "at": self.at,
                "prev": self.prev, "v": VERSION}

    @classmethod
    def from_claims(cls, claims: Any) -> Checkpoint:
        if not isinstance(claims, dict):
            raise CheckpointError("its claims are not a JSON object")
        try:
            values = {"country": claims["iss"], "seq": claims["seq"], "head": claims["head"],
                      "count": claims["count"], "at": claims["at"], "prev": claims["prev"]}
        except KeyError as exc:
            raise CheckpointError(f"claim {exc.args[0]!r} is missing") from None
        for name in ("seq", "count"):
            if not isinstance(values[name], int) or isinstance(values[name], bool) or values[name] < 1:
                raise CheckpointError(f"claim {name!r} is not a positive whole number")
        for name in ("country", "head", "at", "prev"):
            if not isinstance(values[name], str):
                raise CheckpointError(f"claim {name!r} is not a string")
        return cls(**values)


def line_digest(line: str) -> str:
    """What the next checkpoint's ``prev`` holds: the SHA-256 of this line (without its newline)."""
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def sign(checkpoint: Checkpoint, key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    return jws.sign_es256(checkpoint.claims(), key, {"typ": TYP, "kid": kid})


def read(line: str, keys: Mapping[str, ec.EllipticCurvePublicKey]) -> Checkpoint:
    """The checkpoint of a line, its signature checked (ES256 only, ``kid`` one of ``keys``)."""
    try:
        compact = jws.parse(line.strip())
    except DecodeError:
        raise CheckpointError("not a signed checkpoint (unreadable JWS)") from None
    header = compact.header
    if header.get("alg") != "ES256" or header.get("typ") != TYP:
        raise CheckpointError(f"not a signed checkpoint (alg {header.get('alg')!r}, typ {header.get('typ')!r})")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise CheckpointError(f"signed by an unknown key (kid {str(header.get('kid'))[:60]!r})")
    if not jws.verify_es256(compact, key):
        raise CheckpointError("signature invalid: the line was forged or altered")
    try:
        claims = json.loads(compact.payload)
    except ValueError:
        raise CheckpointError("its claims are not JSON") from None
    return Checkpoint.from_claims(claims)


def _own(line: str | None, key: ec.EllipticCurvePrivateKey, kid: str) -> Checkpoint | None:
    """The last line's checkpoint when it is validly signed with ``key`` (a line appended by someone else,
    e.g. one claiming a huge ``seq``, must not stop the anchoring: it is chained to and reported by verify)."""
    if not line:
        return None
    try:
        return read(line, {kid: key.public_key()})
    except CheckpointError:
        return None


def last_line(path: Path) -> str | None:
    """The file's last non-empty line, or None."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - _TAIL_BYTES))
            tail = f.read()
    except FileNotFoundError:
        return None
    lines = [line for line in tail.split(b"\n") if line.strip()]
    return lines[-1].decode("utf-8", "replace") if lines else None


def lines(path: Path) -> list[str]:
    """Every non-empty line of a checkpoint file (raises FileNotFoundError)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def append_only(path: Path) -> bool | None:
    """Whether the file has the append-only attribute (``chattr +a``: no truncation, rewrite or removal, even
    by its owner); None when the system or filesystem cannot tell. Raises OSError (FileNotFoundError...)."""
    if not sys.platform.startswith("linux"):
        return None
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        flags = bytearray(8)  # the kernel writes an int at the start
        try:
            fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
        except OSError as exc:
            if exc.errno in _NO_FLAGS:
                return None
            raise
        return bool(struct.unpack_from("i", flags)[0] & _FS_APPEND_FL)
    finally:
        os.close(fd)


def append(path: Path, make_line: Callable[[str | None], str | None]) -> str | None:
    """Under an exclusive lock of the file: ``make_line(last line)``, appended and synced when not None."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by close
        line = make_line(last_line(path))
        if line is not None:
            os.write(fd, line.encode("utf-8") + b"\n")
            os.fsync(fd)
        return line
    finally:
        os.close(fd)


def write(path: Path, country: str, head: Callable[[], tuple[int, str, int] | None], now: Callable[[], str],
          key: ec.EllipticCurvePrivateKey, kid: str) -> str | None:
    """Append a checkpoint of the chain's current head; None when there is nothing new to anchor.

    ``head`` is read under the file's lock, so that a later line never names an older head. A chain
    shorter than the last checkpoint is not anchored again (``ncpeh audit verify`` reports it).
    """
    def make_line(last: str | None) -> str | None:
        current = head()
        if current is None:
            return None
        seq, head_hash, count = current
        previous = _own(last, key, kid)
        if previous is not None and previous.seq >= seq:
            return None
        checkpoint = Checkpoint(country, seq, head_hash, count, now(), line_digest(last) if last else GENESIS)
        return sign(checkpoint, key, kid)

    return append(path, make_line)


@dataclass(frozen=True)
class CheckResult:
    checkpoints: int
    last: Checkpoint | None
    problems: list[str]


def check(audit, found_lines: list[str], keys: Mapping[str, ec.EllipticCurvePublicKey],  # noqa: ANN001 - AuditStore
          country: str) -> CheckResult:
    """Compare the checkpoints of a file with the chain in the database: one line per problem."""
    problems: list[str] = []
    prev, last_seq, valid, last, last_number = GENESIS, 0, 0, None, 0
    head = audit.head()
    head_seq = head[0] if head else 0
    for number, line in enumerate(found_lines, 1):
        where = f"checkpoint line {number}"
        try:
            cp = read(line, keys)
        except CheckpointError as exc:
            problems.append(f"{where}: {exc}")
            prev = line_digest(line)
            continue
        where += f" ({cp.at}, record #{cp.seq})"
        if cp.prev != prev:
            problems.append(f"{where} does not follow the line before it: a checkpoint line was removed, inserted "
                            "or changed")
        prev = line_digest(line)
        if cp.country != country:
            problems.append(f"{where} was signed for country {cp.country[:8]!r}, not {country}")
            continue
        if cp.seq < last_seq:
            problems.append(f"{where} goes back from record #{last_seq}")
        last_seq = max(last_seq, cp.seq)
        valid, last, last_number = valid + 1, cp, number
        entry = audit.get(cp.seq)
        if entry is None:
            if cp.seq > head_seq:
                problems.append(f"{where}: the chain ends at record #{head_seq}, records #{head_seq + 1}..#{cp.seq} "
                                "were removed (truncated)")
            else:
                problems.append(f"{where}: record #{cp.seq} is missing from the chain")
        elif entry.hash != cp.head:
            problems.append(f"{where}: record #{cp.seq} differs from the signed head: the chain up to it was "
                            "rewritten")
    if last is not None and audit.get(last.seq) is not None:  # counted once (a scan up to the record)
        counted = audit.count_through(last.seq)
        if counted != last.count:
            problems.append(f"checkpoint line {last_number} ({last.at}): {counted} records up to #{last.seq}, "
                            f"the checkpoint says {last.count}")
    return CheckResult(valid, last, problems)


def _time(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def unanchored(audit, last: Checkpoint | None, every: int, seconds: float,  # noqa: ANN001 - AuditStore
               now: dt.datetime | None = None) -> list[str]:
    """The records after the last checkpoint that a running anchor would have covered by ``now``.

    Lines removed from the end of the file leave no gap in it: only the records they covered show it, being
    more than ``every`` past the last checkpoint, or recorded more than ``seconds`` (+ a margin) before the
    last checkpoint's time or before ``now`` (default: the current time). A stalled anchor (no server
    running, failing writes) shows the same way. One line per finding (none when the unanchored tail is as
    recent as the settings allow).
    """
    after = last.seq if last else 0
    first = next(audit.entries(after_seq=after), None)
    if first is None:
        return []
    head = audit.head()
    waiting = head[2] - (audit.count_through(after) if after else 0)
    since = f" after the last checkpoint (record #{last.seq}, {last.at})" if last else " (no checkpoint)"
    cause = ("the newest checkpoint lines were removed, or no checkpoint was written (no server running, or "
             "its anchor failing: see /_status and the log). Compare with the copy shipped off the host before "
             "anchoring them with 'ncpeh audit checkpoint'")
    found: list[str] = []
    if waiting > every:
        found.append(f"{waiting} records{since} are not anchored, more than audit.checkpoint_every ({every}): "
                     + cause)
    allowed = dt.timedelta(seconds=seconds + DELAY_MARGIN_SECONDS)
    recorded = _time(first.recorded)
    if recorded is None:
        found.append(f"record #{first.seq}, the first not anchored, has an unreadable time {first.recorded[:40]!r}")
        return found
    signed_at = _time(last.at) if last else None
    if signed_at is not None and recorded < signed_at - allowed:
        found.append(f"record #{first.seq} was recorded at {first.recorded}, before the checkpoint of {last.at} "
                     f"that ends the chain at record #{last.seq}: " + cause)
    elif recorded < (now or dt.datetime.now(dt.UTC)) - allowed:
        found.append(f"{waiting} records{since}, the first #{first.seq} recorded at {first.recorded}, are still "
                     f"not anchored, though checkpoints are written at least every {seconds:g} s: " + cause)
    return found


@dataclass(frozen=True)
class CopyResult:
    compared: int  #: checkpoints of this country validly signed in the copy
    ignored: int  #: other lines (syslog takes lines from anyone on the host)
    problems: list[str]


def copy_lines(path: Path) -> list[str]:
    """The JWS of each line of a copy kept elsewhere: a copy of the checkpoint file, or the journal's lines
    (``journalctl -t ncpeh-audit``, a remote syslog's file) ending with ``checkpoint FR <jws>``."""
    found = []
    for line in lines(path):
        words = line.split()
        found.append(words[-1] if words and _COMPACT_JWS.fullmatch(words[-1]) else line)
    return found


def compare_copy(audit, local: list[str], copy: list[str],  # noqa: ANN001 - AuditStore
                 keys: Mapping[str, ec.EllipticCurvePublicKey], country: str) -> CopyResult:
    """The checkpoints of ``copy`` (shipped off the host) missing from the ``local`` file: lines removed,
    or the file replaced by one signed afresh (which the key's holder can do, not undo off the host)."""
    have = {line.strip() for line in local}
    problems: list[str] = []
    compared = ignored = 0
    for number, line in enumerate(copy, 1):
        try:
            cp = read(line, keys)
        except CheckpointError:
            ignored += 1
            continue
        if cp.country != country:
            ignored += 1
            continue
        compared += 1
        if line.strip() in have:
            continue
        entry = audit.get(cp.seq)
        chain = ("the chain agrees with it" if entry is not None and entry.hash == cp.head
                 else f"record #{cp.seq} is not in the chain" if entry is None
                 else f"record #{cp.seq} differs from it: the chain up to it was rewritten")
        problems.append(f"copy line {number} ({cp.at}, record #{cp.seq}) is missing from the checkpoint file: "
                        f"its lines were removed or it was replaced; {chain}")
    if not compared:
        problems.append(f"the copy holds no checkpoint signed for {country}: nothing to compare with")
    return CopyResult(compared, ignored, problems)
