"""Anchoring the audit chain while serving: signed checkpoints written off the request path.

Each worker process keeps one :class:`AuditAnchor` (on its runtime). A request that wrote an audit
record only compares the record's ``seq`` with the next one due (``checkpoint_every`` records after
the last checkpoint this process saw) and, when due, wakes the process's checkpoint thread; the thread
also wakes every ``checkpoint_seconds`` and writes a checkpoint when the chain has grown. Writing is
serialised between processes by the file's lock (:func:`gateway.audit.checkpoint.write`). A failure is
logged and shown on ``/_status`` (``checks.audit_anchor``); it never fails a request nor loses its
record.

:func:`weaknesses` says why the checkpoints would not stop the account that writes the database (the
one the servers run as): a checkpoint file it can rewrite (not append-only, or beside the database), no
copy leaving the host (no system journal, or lines it did not take). ``/_status`` shows them as a warning
(``AUDIT_ANCHOR_WEAK``), ``ncpeh audit verify`` prints them.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway import storage
from gateway.audit import checkpoint
from gateway.audit.journal import Journal
from gateway.config import CountryConfig
from gateway.security.pki import PKIError, load_private_key
from gateway.security.trustlist import key_id
from gateway.storage.records import utcnow

log = logging.getLogger("ncpeh.audit.anchor")


def write_checkpoint(cfg: CountryConfig, store: storage.Store, key: ec.EllipticCurvePrivateKey, kid: str,
                     journal: Journal, path: Path | None = None) -> str | None:
    """Append a checkpoint of ``store``'s chain to the file (and the journal); None when nothing is new."""
    line = checkpoint.write(path or cfg.audit_checkpoints, cfg.code, store.audit.head, utcnow, key, kid)
    if line is not None and not journal.send(f"checkpoint {cfg.code} {line}") and journal.available:
        log.warning("audit checkpoint not delivered to the system journal (%s): no copy left the host",
                    journal.address)
    return line


@dataclass(frozen=True)
class Weakness:
    """Why the anchor does not protect against the account that writes the database."""

    code: str  #: for the unauthenticated /_status (names no file)
    message: str  #: for the log and the command line


def weaknesses(cfg: CountryConfig, journal: Journal, path: Path | None = None) -> list[Weakness]:
    """What lets the database's writer also rewrite the checkpoints of ``path`` (default: the checkpoint
    file), or keeps them from leaving the host."""
    path = path or cfg.audit_checkpoints
    found: list[Weakness] = []
    advice = "the account that writes the database can rewrite it; make it append-only (chattr +a)"
    try:
        flag = checkpoint.append_only(path)
    except FileNotFoundError:
        flag = False
        advice = "no checkpoint written yet; create it and make it append-only (chattr +a)"
    except OSError as exc:
        flag = None
        advice = f"its attributes cannot be read ({exc.strerror or exc})"
    if flag is None:
        found.append(Weakness("append_only_unknown", f"{path}: whether it is append-only cannot be told here "
                              f"(this filesystem has no inode flags, FS_IOC_GETFLAGS): {advice}"))
    elif not flag:
        found.append(Weakness("not_append_only", f"{path} is not append-only: {advice}"))
    if path.resolve().is_relative_to(cfg.data_dir.resolve()):
        found.append(Weakness("in_data_dir", f"{path} is in the data directory {cfg.data_dir} (same volume, same "
                              "owner and same backup as the database): set audit.checkpoint_file elsewhere"))
    if not journal.available:
        found.append(Weakness("no_journal", f"no system journal ({journal.address} is absent): no copy of the "
                              "checkpoints leaves the host; ship the checkpoint file off the host instead"))
    elif journal.delivered is False:
        found.append(Weakness("journal_undelivered", f"the last checkpoint sent to the system journal "
                              f"({journal.address}) was not delivered"))
    return found


def verification_keys(cfg: CountryConfig) -> dict[str, ec.EllipticCurvePublicKey]:
    """The keys whose checkpoints are accepted: the active signing key and every ``*signing*.pub`` of the
    country (retired keys included: keep them, older checkpoints were signed with them)."""
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    folder = cfg.certs.signing_key.parent
    for pub in sorted(folder.glob("*signing*.pub")):
        try:
            key = load_public_key(pub)
        except PKIError as exc:
            log.warning("audit checkpoints: %s is not used (%s)", pub, exc)
            continue
        keys[key_id(key)] = key
    try:
        private = load_private_key(cfg.certs.signing_key, cfg.key_password)
    except PKIError:
        return keys
    keys[key_id(private.public_key())] = private.public_key()
    return keys


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise PKIError(f"{path}: not a readable public key ({exc.__class__.__name__})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise PKIError(f"{path}: not an EC public key")
    return key


class AuditAnchor:
    """One process's checkpoint writer (started in each worker on first use, never across a fork)."""

    def __init__(self, cfg: CountryConfig, key: ec.EllipticCurvePrivateKey, kid: str,
                 journal: Journal | None = None) -> None:
        self.cfg, self._key, self.kid = cfg, key, kid
        self.journal = journal or Journal()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pid: int | None = None
        self._due = cfg.checkpoint_every
        self.last_error: str | None = None
        self.last_written: str | None = None  # time of this process's last checkpoint

    def log_weaknesses(self) -> None:
        """Say at start-up why the checkpoints would not stop the account that writes the database."""
        for weakness in weaknesses(self.cfg, self.journal):
            log.warning("audit anchor weak (%s): %s", weakness.code, weakness.message)

    def noticed(self, seq: int) -> None:
        """A record ``seq`` was committed: wake the checkpoint thread when a checkpoint is due. Never raises."""
        try:
            self._ensure_thread()
            if seq >= self._due:
                self._wake.set()
        except Exception:  # noqa: BLE001 - anchoring must never fail the request that was recorded
            log.exception("audit checkpoint thread could not be started")

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._lock:
            if self._pid == pid:
                return
            self._wake = threading.Event()  # a forked child starts its own thread (threads do not survive fork)
            threading.Thread(target=self._run, name="audit-checkpoints", daemon=True).start()
            self._pid = pid

    def _run(self) -> None:
        store: storage.Store | None = None
        while True:
            self._wake.wait(self.cfg.checkpoint_seconds)
            self._wake.clear()
            try:
                store = store or storage.open_store(self.cfg.database, migrate=False)
                self.checkpoint(store)
            except Exception as exc:  # noqa: BLE001 - logged and shown on /_status, tried again
                self.last_error = f"{utcnow()}: {exc.__class__.__name__}: {exc}"
                log.error("audit checkpoint not written to %s: %s", self.cfg.audit_checkpoints, exc)
                if store is not None:
                    store.close()
                    store = None

    def checkpoint(self, store: storage.Store) -> str | None:
        """Write a checkpoint now (when the chain grew); the next one falls due ``checkpoint_every`` later."""
        line = write_checkpoint(self.cfg, store, self._key, self.kid, self.journal)
        head = store.audit.head()
        self._due = (head[0] if head else 0) + self.cfg.checkpoint_every
        self.last_error = None
        if line is not None:
            self.last_written = utcnow()
        return line

    def status(self) -> dict:
        """For ``/_status``: ``warning`` while the last attempt failed (requests are still served and recorded,
        ``AUDIT_CHECKPOINT_FAILED``) or while the anchor is weak (``AUDIT_ANCHOR_WEAK``, the reasons in
        ``weaknesses``). Codes only: the unauthenticated status names no file; the error and the file are in
        the log and printed by ``ncpeh audit verify``."""
        weak = [weakness.code for weakness in weaknesses(self.cfg, self.journal)]
        body = {"status": "warning" if self.last_error or weak else "ok", "journal": self.journal.available,
                "weaknesses": weak, "last_written_here": self.last_written}
        if self.last_error:
            body["code"] = "AUDIT_CHECKPOINT_FAILED"
        elif weak:
            body["code"] = "AUDIT_ANCHOR_WEAK"
        return body
