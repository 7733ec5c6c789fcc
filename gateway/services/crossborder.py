"""Country B's side of the exchange: ask a foreign NCPeH to identify a patient, then for the summary.

Portal and partner API both call these functions; they differ only in authentication and rendering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gateway import errors
from gateway.security.trustlist import TrustedCountry, TrustList
from gateway.services.peers import PeerClient

_LOCAL_ID = re.compile(r"^([a-z]{2})-([A-Za-z0-9.]{1,60})$")


@dataclass
class CallContext:
    """Who asks, and the request id that travels to the foreign side for correlation."""

    request_id: str
    language: str
    headers: dict[str, str] = field(default_factory=dict)

    def outgoing_headers(self) -> dict[str, str]:
        return {"X-Request-ID": self.request_id, "Accept-Language": self.language, **self.headers}


def foreign_country(trust: TrustList | None, code: str, own_code: str) -> TrustedCountry:
    if trust is None:
        raise errors.ServiceUnavailable("The trust list is not valid: cross-border exchange is suspended.",
                                        code="TRUST_LIST_INVALID")
    country = trust.country(code or "")
    if country is None:
        raise errors.NotFound(f"Country {code!r} is not in the trust list.", code="UNKNOWN_COUNTRY")
    if country.code == own_code:
        raise errors.BadRequest("This is the patient's own country: use the national services.",
                                code="OWN_COUNTRY")
    return country


def local_id(country: TrustedCountry, remote_id: str) -> str:
    """The id under which a foreign patient is known here: '<country>-<their id>'."""
    return f"{country.code.lower()}-{remote_id}"


def split_local_id(value: str) -> tuple[str, str]:
    match = _LOCAL_ID.match(value or "")
    if not match:
        raise errors.NotFound("Unknown patient id; ids come from a cross-border search.", code="UNKNOWN_PATIENT")
    return match.group(1).upper(), match.group(2)


def identify_abroad(
    peers: PeerClient, country: TrustedCountry, traits: dict[str, str], ctx: CallContext
) -> list[dict]:
    resp = peers.get(country, "/fhir/Patient", params=traits, headers=ctx.outgoing_headers())
    try:
        bundle = resp.json()
        resources = [entry["resource"] for entry in bundle.get("entry", [])]
        if bundle.get("resourceType") != "Bundle" or any(r.get("resourceType") != "Patient" for r in resources):
            raise ValueError("not a searchset of Patients")
    except Exception:  # noqa: BLE001 - garbage from the peer
        raise errors.PeerError(f"{country.name} ({country.code}) sent an unreadable identification answer.") from None
    for resource in resources:
        resource["id"] = local_id(country, str(resource.get("id", "")))
    return resources


def summary_abroad(peers: PeerClient, country: TrustedCountry, remote_id: str, ctx: CallContext) -> dict:
    resp = peers.get(country, f"/fhir/Patient/{remote_id}/$summary", headers=ctx.outgoing_headers())
    try:
        bundle = resp.json()
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "document":
            raise ValueError("not a document Bundle")
    except Exception:  # noqa: BLE001 - garbage from the peer
        raise errors.PeerError(f"{country.name} ({country.code}) sent an unreadable patient summary.") from None
    return bundle
