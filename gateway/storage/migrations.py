"""Versioned schema migrations (sqlite-utils' Migrations: each runs once, in order, in a transaction)."""

from __future__ import annotations

import time

import sqlite_utils
from sqlite_utils import Migrations

from gateway.storage.signin_names import signin_name, signin_name_hash

migrations = Migrations("ncpeh")


@migrations()
def m001_records(db: sqlite_utils.Database) -> None:
    """National record store: patients (identity traits, consent) and versioned summaries."""
    db.execute(
        """
        CREATE TABLE patients (
            id TEXT PRIMARY KEY,
            identifier_system TEXT NOT NULL,
            identifier_value TEXT NOT NULL,
            family TEXT NOT NULL,
            given TEXT NOT NULL,
            birthdate TEXT NOT NULL,
            gender TEXT NOT NULL,
            birthplace TEXT,
            consent TEXT NOT NULL DEFAULT 'allowed' CHECK (consent IN ('allowed', 'opposed')),
            consent_updated_at TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (identifier_system, identifier_value)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE summaries (
            id INTEGER PRIMARY KEY,
            patient_id TEXT NOT NULL REFERENCES patients(id),
            version INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            language TEXT,
            entries INTEGER NOT NULL DEFAULT 0,
            compression TEXT CHECK (compression IN ('zlib')),
            document BLOB NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (patient_id, version)
        )
        """
    )
    db.execute("CREATE INDEX summaries_patient_sha ON summaries (patient_id, sha256)")


@migrations()
def m002_partner_clients(db: sqlite_utils.Database) -> None:
    """Partner software registered for the FHIR API (OAuth 2.0 client credentials)."""
    db.execute(
        """
        CREATE TABLE clients (
            client_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            secret_hash TEXT,
            jwks TEXT,
            scopes TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        )
        """
    )


@migrations()
def m003_assertion_replay(db: sqlite_utils.Database) -> None:
    """Identifiers (jti) of the assertions already accepted, per issuing country, until they expire."""
    db.execute(
        """
        CREATE TABLE assertion_replay (
            issuer TEXT NOT NULL,
            jti TEXT NOT NULL,
            kind TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (issuer, jti)
        )
        """
    )
    db.execute("CREATE INDEX assertion_replay_expiry ON assertion_replay (expires_at)")


@migrations()
def m004_audit(db: sqlite_utils.Database) -> None:
    """Audit trail: append-only, hash-chained records (identifiers only); UPDATE and DELETE refused."""
    db.execute(
        """
        CREATE TABLE audit_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            uuid TEXT NOT NULL UNIQUE,
            recorded TEXT NOT NULL,
            recorder TEXT NOT NULL,
            listener TEXT NOT NULL,
            event TEXT NOT NULL,
            action TEXT NOT NULL,
            outcome TEXT NOT NULL,
            outcome_code TEXT,
            request_id TEXT,
            side TEXT,
            peer_country TEXT,
            actor_type TEXT NOT NULL,
            actor_id TEXT,
            actor_role TEXT,
            organisation TEXT,
            purpose TEXT,
            patient_id TEXT,
            network TEXT,
            detail TEXT NOT NULL DEFAULT '{}',
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        )
        """
    )
    db.execute("CREATE INDEX audit_events_patient ON audit_events (patient_id, seq)")
    db.execute("CREATE INDEX audit_events_request ON audit_events (request_id)")
    db.execute("CREATE INDEX audit_events_recorded ON audit_events (recorded)")
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events"
            " BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END"
        )


@migrations()
def m005_portal_users(db: sqlite_utils.Database) -> None:
    """Clinician portal: local accounts (standing for the national login), sessions, failed sign-ins."""
    db.execute(
        """
        CREATE TABLE portal_users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            professional_id TEXT NOT NULL,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            organisation TEXT NOT NULL,
            organisation_id TEXT NOT NULL,
            language TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            totp_secret TEXT,
            totp_last_step INTEGER,
            active INTEGER NOT NULL DEFAULT 1,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER,
            last_login_at TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE portal_sessions (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES portal_users(id),
            created_at INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            ended INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT '{}'
        )
        """
    )
    db.execute("CREATE INDEX portal_sessions_user ON portal_sessions (user_id)")
    db.execute("CREATE TABLE portal_login_failures (address TEXT NOT NULL, at INTEGER NOT NULL)")
    db.execute("CREATE INDEX portal_login_failures_address ON portal_login_failures (address, at)")


@migrations()
def m006_client_rate_limits(db: sqlite_utils.Database) -> None:
    """Partner API: a client's own request rate (requests per minute; NULL: the country's default)."""
    db.execute("ALTER TABLE clients ADD COLUMN rate_per_minute INTEGER")


@migrations()
def m007_signin_failures_by_name(db: sqlite_utils.Database) -> None:
    """Portal: failed sign-ins counted per submitted (normalised) name, known or not (the lockout).

    Keyed by the name's SHA-256 (a password typed into the name field is not kept in clear).
    ``portal_users.failed_attempts`` and ``locked_until`` are no longer used: their counts and locks move here.
    """
    db.execute(
        """
        CREATE TABLE portal_signin_failures (
            name_hash TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            window_start INTEGER NOT NULL,
            locked_until INTEGER
        )
        """
    )
    db.execute("CREATE INDEX portal_signin_failures_window ON portal_signin_failures (window_start)")
    now = int(time.time())
    for username, failures, locked_until in db.execute(
            "SELECT username, failed_attempts, locked_until FROM portal_users"
            " WHERE failed_attempts > 0 OR locked_until IS NOT NULL").fetchall():
        db.execute("INSERT INTO portal_signin_failures (name_hash, failures, window_start, locked_until) VALUES (?, ?, ?, ?)",
                   (signin_name_hash(signin_name(username)), failures, now, locked_until))


@migrations()
def m008_pending_signins(db: sqlite_utils.Database) -> None:
    """Portal: the state between a right password and the second factor (server-side, single use)."""
    db.execute(
        """
        CREATE TABLE portal_pending_signins (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES portal_users(id),
            expires_at INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX portal_pending_signins_user ON portal_pending_signins (user_id)")
    db.execute("CREATE INDEX portal_pending_signins_expiry ON portal_pending_signins (expires_at)")


@migrations()
def m009_summary_originals(db: sqlite_utils.Database) -> None:
    """The original clinical document a summary version was converted from (a CI-SIS CDA), same version."""
    db.execute(
        """
        CREATE TABLE summary_originals (
            patient_id TEXT NOT NULL REFERENCES patients(id),
            version INTEGER NOT NULL,
            media_type TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            compression TEXT,
            document BLOB NOT NULL,
            PRIMARY KEY (patient_id, version)
        )
        """
    )


def apply(db: sqlite_utils.Database) -> list[str]:
    """Bring the schema up to date; returns the names of the migrations applied now."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


def schema_version(db: sqlite_utils.Database) -> int:
    return len(migrations.applied(db))
