"""Versioned schema migrations (sqlite-utils' Migrations: each runs once, in order, in a transaction)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

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


def apply(db: sqlite_utils.Database) -> list[str]:
    """Bring the schema up to date; returns the names of the migrations applied now."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


def schema_version(db: sqlite_utils.Database) -> int:
    return len(migrations.applied(db))
