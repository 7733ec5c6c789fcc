"""Text from callers made safe to print: one rule for the audit records and the access log.

A caller chooses some of what ends up in both (a claimed client id, a URL path): control characters could
forge lines or drive a terminal, and Unicode line separators and bidirectional overrides could make a
record or a log line read differently from what it holds. Each such character is written as an escape,
``\\xNN`` below U+0100 and ``\\uNNNN`` above (Python's notation), so nothing is lost and nothing acts.
"""

from __future__ import annotations

import re

#: C0 and C1 controls, DEL, the Unicode line and paragraph separators, the bidirectional embeddings,
#: overrides and isolates.
UNPRINTABLE = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escaper(also: str = "") -> re.Pattern[str]:
    """The pattern of what :func:`escape` rewrites, plus the characters of ``also`` (a log format's quote)."""
    return re.compile(f"[{UNPRINTABLE}{re.escape(also)}]")


_DEFAULT = escaper()


def escape(text: str, pattern: re.Pattern[str] = _DEFAULT) -> str:
    """``text`` with every character ``pattern`` matches (by default :data:`UNPRINTABLE`) escaped."""
    return pattern.sub(_escaped, text)
