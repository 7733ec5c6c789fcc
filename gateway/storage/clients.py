"""Partner clients of the FHIR API (OAuth 2.0 client credentials)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

import sqlite_utils

from gateway.storage.records import utcnow

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_secret(secret: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, digest = stored.split("$", 2)
    candidate = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), dklen=32, **_SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    scopes: tuple[str, ...]
    active: bool
    created_at: str
    jwks: dict | None
    #: Requests per minute on the partner API; None: the country's default (``partner_api.rate_per_minute``).
    rate_per_minute: int | None = None


class ClientStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn

    def add(self, name: str, scopes: list[str], jwks: dict | None = None, with_secret: bool = True,
            rate_per_minute: int | None = None):
        """Register a client; returns (client_id, secret or None). The secret is shown once.

        Without a secret the client authenticates with signed JWT assertions (``private_key_jwt``)
        against ``jwks``.
        """
        client_id = "client-" + secrets.token_hex(8)
        secret = secrets.token_urlsafe(32) if with_secret else None
        self.conn.execute(
            "INSERT INTO clients (client_id, name, secret_hash, jwks, scopes, created_at, rate_per_minute)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                client_id, name, hash_secret(secret) if secret else None,
                json.dumps(jwks) if jwks else None, " ".join(scopes), utcnow(), rate_per_minute,
            ),
        )
        return client_id, secret

    def _row(self, row) -> Client:
        jwks = json.loads(row[5]) if row[5] else None
        return Client(row[0], row[1], tuple(row[2].split()), bool(row[3]), row[4], jwks, row[6])

    def get(self, client_id: str) -> Client | None:
        row = self.conn.execute(
            "SELECT client_id, name, scopes, active, created_at, jwks, rate_per_minute FROM clients"
            " WHERE client_id = ?",
            (client_id,),
        ).fetchone()
        return self._row(row) if row else None

    def list(self) -> list[Client]:
        rows = self.conn.execute(
            "SELECT client_id, name, scopes, active, created_at, jwks, rate_per_minute FROM clients"
            " ORDER BY created_at"
        ).fetchall()
        return [self._row(row) for row in rows]

    def verify_secret(self, client_id: str, secret: str) -> Client | None:
        row = self.conn.execute(
            "SELECT secret_hash FROM clients WHERE client_id = ? AND active = 1", (client_id,)
        ).fetchone()
        stored = row[0] if row else None
        # Spend the same time whether or not the client exists.
        ok = check_secret(secret, stored or "scrypt$00$00")
        return self.get(client_id) if ok and row else None

    def set_jwks(self, client_id: str, jwks: dict | None) -> bool:
        """Register (replace) the client's public keys, e.g. for signing clinician assertions."""
        return self.conn.execute(
            "UPDATE clients SET jwks = ? WHERE client_id = ?", (json.dumps(jwks) if jwks else None, client_id)
        ).rowcount == 1

    def set_rate(self, client_id: str, rate_per_minute: int | None) -> bool:
        """The client's own request rate (requests per minute); None: the country's default."""
        return self.conn.execute(
            "UPDATE clients SET rate_per_minute = ? WHERE client_id = ?", (rate_per_minute, client_id)
        ).rowcount == 1

    def revoke(self, client_id: str) -> bool:
        return self.conn.execute("UPDATE clients SET active = 0 WHERE client_id = ?", (client_id,)).rowcount == 1
