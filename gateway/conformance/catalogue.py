"""The check registry: every check has an id, a one-line description, its specification, a severity.

Checks register themselves with :func:`check` when their module is imported (``checks_*.py``); the
order of :data:`CATALOGUE` is the order in which they run and are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

#: A check: called with the run's ``gateway.conformance.kit.Kit`` (not imported: the kit imports this
#: registry), returns what it observed.
CheckFunction = Callable[[Any], str]
Severity = Literal["error", "warning"]
Status = Literal["pass", "fail", "skip"]


class Skip(Exception):
    """Raised by a check that cannot run (e.g. no patient given): reported as skipped with the reason."""


class Fail(Exception):
    """Raised by a check whose expectation is not met: reported as failed with the message."""


@dataclass(frozen=True)
class Check:
    id: str
    group: str
    description: str
    spec: str
    severity: Severity
    run: CheckFunction  # returns what was observed (the detail of a pass)


@dataclass(frozen=True)
class Outcome:
    check: Check
    status: Status
    detail: str


CATALOGUE: list[Check] = []


def check(id: str, group: str, description: str, spec: str,  # noqa: A002 - "id" is the catalogue's word
          severity: Severity = "error") -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as a check (ids are unique)."""

    def register(func: CheckFunction) -> CheckFunction:
        if any(c.id == id for c in CATALOGUE):
            raise ValueError(f"check id {id} registered twice")
        CATALOGUE.append(Check(id, group, description, spec, severity, func))
        return func

    return register


def markdown_table(checks: list[Check]) -> str:
    """The catalogue as the Markdown table of docs/conformance.md (``ncpeh conformance --list``)."""
    lines = ["| id | severity | what is checked | specification |", "|---|---|---|---|"]
    for item in checks:
        lines.append(f"| `{item.id}` | {item.severity} | {item.description} | {item.spec} |")
    return "\n".join(lines) + "\n"
