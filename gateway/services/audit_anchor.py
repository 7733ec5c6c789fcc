"""Anchoring the audit chain while serving: signed checkpoints written off the request path.

Each worker process keeps one :class:`AuditAnchor` (on its runtime). A request that wrote an audit
record only compares the record's ``seq`` with the next one due (``checkpoint_every`` records after
the last checkpoint this process saw) and, when due, wakes the process's checkpoint thread; the thread
also wakes every ``checkpoint_seconds`` and writes a checkpoint when the chain has grown. Writing is
serialised between processes by the file's lock (:func:`gateway.audit.checkpoint.write`). A failure is
logged and shown on ``/_status`` (``checks.audit_anchor``); it never fails a request nor loses its
record.
"""

from __future__ import annotations

import logging
import os
import threading
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
    if line is not None:
        journal.send(f"checkpoint {cfg.code} {line}")
    return line


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
        """For ``/_status``: ``warning`` while the last attempt failed (requests are still served and recorded).
        A code only: the unauthenticated status names no file; the error and the file are in the log."""
        body = {"status": "warning" if self.last_error else "ok", "journal": self.journal.available,
                "last_written_here": self.last_written}
        if self.last_error:
            body["code"] = "AUDIT_CHECKPOINT_FAILED"
        return body
