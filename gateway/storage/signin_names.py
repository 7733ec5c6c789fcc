"""The name failed sign-ins are counted under, and the form it is stored in (used by a migration: keep stable)."""

from __future__ import annotations

import hashlib


def signin_name(username: str) -> str:
    """As submitted, trimmed, lower case (usernames ignore case), at most 64 characters."""
    return username.strip().lower()[:64]


def signin_name_hash(name: str) -> str:
    """What ``portal_signin_failures`` stores: never the name itself (it may be a password typed in the wrong field)."""
    return hashlib.sha256(b"ncpeh-portal-signin-name:" + name.encode()).hexdigest()
