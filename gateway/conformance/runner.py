"""Runs the catalogue against a target: a preflight that it is reachable and answers as an NCPeH, then
every check in order, each turned into an outcome (pass, fail, or skip with the reason)."""

from __future__ import annotations

from gateway.conformance import checks_assertions, checks_identify, checks_service, checks_summary, checks_tls
from gateway.conformance.catalogue import CATALOGUE, Check, Fail, Outcome, Skip
from gateway.conformance.client import KitInputError, TransportError
from gateway.conformance.kit import Kit

CHECK_MODULES = (checks_tls, checks_identify, checks_summary, checks_assertions, checks_service)
GROUPS = ("TLS", "identification", "summary", "assertions", "consent", "errors", "performance")


def checks() -> list[Check]:
    """The whole catalogue in running order: transport, identification, summary, assertions, the rest."""
    return sorted(CATALOGUE, key=lambda item: GROUPS.index(item.group))


def preflight(kit: Kit) -> None:
    """KitInputError (one line) unless the target is reachable and answers a valid HCP assertion as an NCPeH."""
    try:
        resp = kit.channel.request("/Patient", None, {"Authorization": f"Bearer {kit.hcp()}"})
    except TransportError as exc:
        if str(exc).startswith("TLS:"):
            raise KitInputError(f"the TLS handshake with {kit.settings.target} failed ({exc})") from None
        raise KitInputError(f"cannot reach {kit.settings.target}: {exc}") from None
    kind = resp.resource_type()
    if kind not in ("OperationOutcome", "Bundle"):
        raise KitInputError(f"{kit.settings.target} is not an NCPeH-to-NCPeH FHIR API: GET /Patient answered "
                            f"{resp.describe()}")
    if resp.status in (401, 403):
        raise KitInputError(f"{kit.settings.target} refused a valid HCP assertion ({resp.describe()}): it is not an "
                            f"NCPeH-to-NCPeH API, or --country/--issuer/--audience/--signing-key/--client-cert do not "
                            f"match what it expects")


def run_one(kit: Kit, item: Check) -> Outcome:
    try:
        detail = item.run(kit)
    except Skip as exc:
        return Outcome(item, "skip", str(exc))
    except Fail as exc:
        return Outcome(item, "fail", str(exc))
    except KitInputError:
        raise
    except Exception as exc:  # a check that breaks is a failure of that check, never a pass
        return Outcome(item, "fail", f"the check could not complete: {type(exc).__name__}: {exc}")
    return Outcome(item, "pass", detail)


def run(kit: Kit, only: tuple[str, ...] = ()) -> list[Outcome]:
    """Every check (or those of ``only``) in order; call :func:`preflight` first."""
    return [run_one(kit, item) for item in checks() if not only or item.id in only]


def failed(outcomes: list[Outcome]) -> bool:
    """True when an error-level check failed (the exit status is then non-zero)."""
    return any(o.status == "fail" and o.check.severity == "error" for o in outcomes)
