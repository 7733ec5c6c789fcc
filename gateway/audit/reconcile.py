"""Reconciling two countries' records of the same exchanges (``ncpeh audit reconcile``).

Each side records every identification and summary call of a cross-border exchange with the request
id country B sent to country A. Reading the other country's export (``ncpeh audit export``: NDJSON of
FHIR AuditEvents) beside our own records, matched by request id and event, shows:

* a call country A answered (any outcome) that country B has no record of;
* a call country B recorded as answered (success) that country A has no record of;
* a summary whose digest differs: B records the SHA-256 of the bytes it received, A of the bytes it
  sent (``document_sha256``). B may retry a call whose answer was lost: A then holds one record per
  attempt and B's digest must be one of them. An attempt is named by its TRC assertion (single-use, one
  per call); the HCP assertion names the clinician's session, which B's retries share (issue #23).

A refusal or failure recorded only at B is not a discrepancy: B refuses some calls before they
reach A (its own token, rate limit or clinician checks) and a call can fail on the way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson

from gateway.audit import events
from gateway.audit.chain import AuditEntry
from gateway.audit.events import Outcome
from gateway.audit.fhir import BALP, DCM, NCPEH_CHAIN, NCPEH_COUNTRY, NCPEH_EVENT

EXCHANGE_EVENTS = (events.IDENTIFY, events.SUMMARY)


class ExportError(ValueError):
    """The other country's export cannot be read."""


@dataclass(frozen=True)
class Exchanged:
    """One side's record of one cross-border call (from our database or the other country's export)."""

    recorder: str
    peer: str
    side: str
    event: str
    request_id: str
    outcome: str
    ref: str  # where to find it: "#seq" (and uuid)
    document_sha256: str | None = None
    attempt: str | None = None  # the TRC assertion A answered (each retry signs its own); else the HCP one

    @classmethod
    def from_entry(cls, entry: AuditEntry) -> Exchanged:
        return cls(entry.recorder, entry.peer_country or "", entry.side or "", entry.event, entry.request_id or "",
                   entry.outcome, f"#{entry.seq} ({entry.uuid})", entry.detail.get("document_sha256"),
                   entry.detail.get("trc_assertion_jti") or entry.detail.get("hcp_assertion_jti"))


def _who(agent: dict) -> str | None:
    identifier = (agent.get("who") or {}).get("identifier") or {}
    return identifier.get("value") if identifier.get("system") == NCPEH_COUNTRY else None


def from_fhir(resource: dict) -> Exchanged | None:
    """The exchange record an exported AuditEvent describes, or None (not an identification or summary call).

    The side follows from how :func:`gateway.audit.fhir.to_fhir` places the two NCPeHs: a released or
    received summary by its BALP profile, any other call by who is the source (B asks, A answers).
    """
    if not isinstance(resource, dict) or resource.get("resourceType") != "AuditEvent":
        raise ExportError("not a FHIR AuditEvent")
    event = next((c.get("code") for c in resource.get("subtype") or [] if c.get("system") == NCPEH_EVENT), None)
    if event not in EXCHANGE_EVENTS:
        return None
    recorder = (((resource.get("source") or {}).get("observer") or {}).get("identifier") or {}).get("value")
    roles: dict[str, str | None] = {}
    for agent in resource.get("agent") or []:
        for coding in (agent.get("type") or {}).get("coding") or []:
            if coding.get("system") == DCM and coding.get("code") in ("110153", "110152"):
                roles[coding["code"]] = _who(agent)
    source, destination = roles.get("110153"), roles.get("110152")
    if not recorder or source is None or destination is None:
        return None  # a call without a side (no two NCPeHs)
    profiles = (resource.get("meta") or {}).get("profile") or []
    if f"{BALP}/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Source" in profiles:
        side = events.RESPONDING
    elif f"{BALP}/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Recipient" in profiles:
        side = events.REQUESTING
    else:
        side = events.REQUESTING if source == recorder else events.RESPONDING
    peer = destination if source == recorder else source
    request_id = digest = attempt = None
    ref = f"AuditEvent/{resource.get('id')}"
    for entity in resource.get("entity") or []:
        kind = entity.get("type") or {}
        value = ((entity.get("what") or {}).get("identifier") or {}).get("value")
        details = {d.get("type"): d.get("valueString") for d in entity.get("detail") or []}
        if kind.get("code") == "XrequestId":
            request_id = value
        elif (entity.get("role") or {}).get("code") == "3":
            digest = details.get("document_sha256")
        elif kind.get("system") == NCPEH_CHAIN:
            ref = f"#{details.get('seq')} ({value})"
            attempt = details.get("trc_assertion_jti") or details.get("hcp_assertion_jti")
    if not request_id:
        return None
    return Exchanged(recorder, peer, side, event, request_id, str(resource.get("outcome")), ref, digest, attempt)


def read_export(lines: Iterable[bytes]) -> Iterator[Exchanged]:
    """The exchange records of an NDJSON export (raises ExportError naming the line)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = from_fhir(orjson.loads(line))
        except orjson.JSONDecodeError:
            raise ExportError(f"line {number} is not JSON") from None
        except (ExportError, AttributeError, TypeError) as exc:
            raise ExportError(f"line {number} is not an exported AuditEvent ({exc})") from None
        if record is not None:
            yield record


@dataclass
class Reconciliation:
    ours: str
    theirs: str
    matched: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def reconcile(ours: str, theirs: str, own: list[Exchanged], other: list[Exchanged]) -> Reconciliation:
    """Compare our records of exchanges with ``theirs`` and the other country's records of exchanges with us."""
    result = Reconciliation(ours, theirs)
    calls: dict[tuple[str, str, str], dict[str, list[Exchanged]]] = defaultdict(lambda: defaultdict(list))
    for record in own:
        if record.peer == theirs:
            answering = ours if record.side == events.RESPONDING else theirs
            calls[(record.request_id, record.event, answering)][record.side].append(record)
    for record in other:
        if record.recorder == theirs and record.peer == ours:
            answering = theirs if record.side == events.RESPONDING else ours
            calls[(record.request_id, record.event, answering)][record.side].append(record)
    for (request_id, event, answering), sides in sorted(calls.items()):
        asking = theirs if answering == ours else ours
        a, b = sides.get(events.RESPONDING, []), sides.get(events.REQUESTING, [])
        what = f"request {request_id} ({event})"
        if a and not b:
            result.problems.append(f"{what}: answered by {answering} ({', '.join(r.ref for r in a)}), "
                                   f"no record at {asking}")
            continue
        received = [r for r in b if r.outcome == Outcome.SUCCESS]
        if received and not a:
            result.problems.append(f"{what}: {asking} recorded an answer ({', '.join(r.ref for r in received)}), "
                                   f"no record at {answering}")
            continue
        if event == events.SUMMARY and received:
            sent = {r.document_sha256 for r in a if r.outcome == Outcome.SUCCESS and r.document_sha256}
            for r in received:
                if r.document_sha256 not in sent:
                    result.problems.append(
                        f"{what}: {asking} received a document with SHA-256 {r.document_sha256} ({r.ref}), "
                        f"{answering} sent {', '.join(sorted(sent)) or 'none'} ({', '.join(x.ref for x in a)})")
                    break
            else:
                result.matched += 1
            continue
        if a:
            result.matched += 1
    return result
