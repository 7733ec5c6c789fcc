"""Secrets sealed at rest (AES-256-GCM) with a key kept outside the database, in its own 0600 file.

A sealed value reads ``aesgcm1:<key id>:<base64url(nonce || ciphertext || tag)>``; the key id (the
first 16 hex digits of the key's SHA-256) tells a lost or replaced key file from a damaged value.
The ``context`` (e.g. the account's name) is authenticated too: a sealed value copied to another
row does not open there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "aesgcm1:"
_KEY_BYTES = 32
_NONCE_BYTES = 12


class SecretKeyError(Exception):
    """The key file is missing, unreadable or malformed (the message names the file, never the key)."""


class SealedSecretError(Exception):
    """A sealed value does not open with this key (another key, or damaged)."""


def is_sealed(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def load_key(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise SecretKeyError(f"{path}: key file is missing (restore it from the backup kept with the database)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyError(f"{path}: key file cannot be read ({exc.__class__.__name__})") from None
    try:
        key = base64.urlsafe_b64decode(text.encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != _KEY_BYTES:
        raise SecretKeyError(f"{path}: not a key file (expected {_KEY_BYTES} bytes in base64url)")
    return key


def ensure_key(path: Path) -> bytes:
    """The key of ``path``, created (0600, in a 0700 folder when it makes one) when there is none.

    Created under a temporary name then linked in place, which fails when another process got there
    first: two processes starting together never end up with two different keys.
    """
    if path.exists():
        return load_key(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(name, path)
        except FileExistsError:
            pass  # another process created it: use theirs
    finally:
        Path(name).unlink(missing_ok=True)
    return load_key(path)


def seal(key: bytes, plaintext: str, context: str) -> str:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{PREFIX}{key_id(key)}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(key: bytes, value: str, context: str) -> str:
    try:
        kid, body = value[len(PREFIX):].split(":", 1)
        raw = base64.urlsafe_b64decode(body.encode())
    except (ValueError, binascii.Error):
        raise SealedSecretError("the sealed value is malformed") from None
    if kid != key_id(key):
        raise SealedSecretError(f"sealed with key {kid}, the key file holds key {key_id(key)}")
    try:
        return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise SealedSecretError("the sealed value does not open with this key (damaged or moved)") from None
