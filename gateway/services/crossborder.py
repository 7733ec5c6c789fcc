"""Country B's side of the exchange: ask a foreign NCPeH to identify a patient, then for the summary.

The partner API and the portal both identify with :func:`identify_abroad`. For the summary the partner API
calls :func:`translated_summary_abroad` (translated here, cached by digest); the portal still fetches the
bytes with ``summary_bytes_abroad`` and translates and caches them itself (one path for both: issue #18).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway import errors, timing
from gateway.audit.chain import document_identifier
from gateway.records import narrative
from gateway.records.cda.attachments import EMBEDDED_TYPES
from gateway.records.cda.reader import CdaError, parse_cda
from gateway.records.local_ids import REMOTE_ID, make_local_id, parse_local_id
from gateway.security import policy
from gateway.security.assertions import AssertionSigner, Clinician
from gateway.security.trustlist import TrustedCountry, TrustList
from gateway.services import terminology as terminology_service
from gateway.services.caches import BoundedCache
from gateway.services.peers import PeerClient
from terminology import Terminology

__all__ = ["CallContext", "Clinician", "OriginalDocument", "SummaryCaches", "foreign_country", "has_original",
           "identify_abroad", "identify_one_abroad", "local_id", "original_abroad", "patient_country",
           "split_local_id", "summary_abroad", "summary_key", "translate_received", "translated_summary_abroad"]

CDA_MEDIA_TYPE = "application/hl7-cda+xml"
#: the original documents this side relays, and what they must start with (a CDA is parsed whole)
ORIGINAL_TYPES = {CDA_MEDIA_TYPE: b"", **EMBEDDED_TYPES}
_ATTACHMENT_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")


@dataclass
class CallContext:
    """Who asks, and the request id that travels to the foreign side for correlation.

    ``clinician`` and ``purpose`` are whom and why this NCPeH vouches for: every call carries the HCP
    identity assertion (``Authorization: Bearer``) of the clinician's session with that country, signed
    by ``signer`` once and reused until shortly before it expires (``AssertionSigner.session_hcp``);
    ``session`` names the session beyond the clinician's claims (the portal's sign-in; empty for the
    partner API, whose session is the clinician assertion's claims). ``$summary`` and
    ``$original-document`` also carry a fresh single-use TRC assertion (``X-TRC-Assertion``) binding
    clinician, patient and purpose. Without a clinician nothing leaves (fail closed).
    """

    request_id: str
    language: str
    clinician: Clinician | None = None
    purpose: str | None = None
    signer: AssertionSigner | None = field(default=None, repr=False)
    headers: dict[str, str] = field(default_factory=dict)
    session: str = field(default="", repr=False)

    def check_clinician(self) -> Clinician:
        """The clinician, once the policy table allows their role for this purpose (else a refusal)."""
        if self.clinician is None or self.signer is None:
            raise errors.Unauthorized("A cross-border request must name the clinician it is made for.",
                                      code="CLINICIAN_REQUIRED")
        policy.check(self.clinician.role, self.purpose)
        return self.clinician

    @timing.timed("sign")
    def outgoing_headers(self, country: TrustedCountry | None = None, patient_id: str | None = None) -> dict[str, str]:
        """Headers for one call to ``country``: the session's HCP assertion, and a fresh TRC assertion (its
        jti is single-use) for a call about ``patient_id``."""
        out = {"X-Request-ID": self.request_id, "Accept-Language": self.language, **self.headers}
        if country is None:
            return out
        clinician = self.check_clinician()
        assert self.signer is not None and self.purpose is not None
        out["Authorization"] = "Bearer " + self.signer.session_hcp(clinician, self.purpose, country.ncp_url,
                                                                    self.session)
        if patient_id is not None:
            out["X-TRC-Assertion"] = self.signer.trc(clinician, self.purpose, patient_id, country.ncp_url)
        return out


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


def patient_country(trust: TrustList | None, own_code: str, code: str, identifier: str = "") -> TrustedCountry:
    """The patient's country: ``code`` when given, else the one country whose identifier system the
    ``identifier`` (``system|value``) names (400 ``MISSING_PARAMETER`` when none or several do)."""
    code = code.strip().upper()
    if not code:
        system, sep, _ = identifier.partition("|")
        matches = [c for c in (trust.countries.values() if trust else []) if sep and c.identifier_system == system]
        if len(matches) != 1:
            raise errors.BadRequest("Give the patient's country in 'country', or an identifier system that names it.",
                                    code="MISSING_PARAMETER")
        code = matches[0].code
    return foreign_country(trust, code, own_code)


def local_id(country: TrustedCountry, remote_id: str) -> str:
    """The id under which a foreign patient is known here: '<country>-<their id>'."""
    return make_local_id(country.code, remote_id)


def split_local_id(value: str) -> tuple[str, str]:
    """(country code, the foreign NCPeH's id) of a local id; 404 ``UNKNOWN_PATIENT`` when it is not one."""
    parsed = parse_local_id(value)
    if parsed is None:
        raise errors.NotFound("Unknown patient id; ids come from a cross-border search.", code="UNKNOWN_PATIENT")
    return parsed


def identify_abroad(
    peers: PeerClient, country: TrustedCountry, traits: dict[str, str], ctx: CallContext
) -> list[dict]:
    bundle = peers.get_json(country, "/fhir/Patient", params=traits,
                            headers=lambda: ctx.outgoing_headers(country))  # headers per attempt
    try:
        resources = [entry["resource"] for entry in bundle.get("entry", [])]
        if bundle.get("resourceType") != "Bundle" or any(r.get("resourceType") != "Patient" for r in resources):
            raise ValueError("not a searchset of Patients")
        if any(not REMOTE_ID.match(str(r.get("id", ""))) for r in resources):
            raise ValueError("a Patient id that is not a FHIR id this gateway can relay")
        for resource in resources:
            _check_identity(resource)
            narrative.sanitise_document(resource)  # a found Patient's own narrative is relayed too
    except Exception:  # noqa: BLE001 - garbage from the peer
        raise errors.PeerError(f"{country.name} ({country.code}) sent an unreadable identification answer.",
                                code="PEER_BAD_ANSWER") from None
    for resource in resources:
        resource["id"] = local_id(country, str(resource.get("id", "")))
    return resources


def identify_one_abroad(peers: PeerClient, country: TrustedCountry, traits: dict[str, str], ctx: CallContext) -> dict:
    """The one patient the identification finds (404 ``UNKNOWN_PATIENT`` for none, 409 ``AMBIGUOUS_PATIENT``
    for several): identification and summary in one call need exactly one."""
    patients = identify_abroad(peers, country, traits, ctx)
    if not patients:
        raise errors.NotFound("No patient matches this identifier and these traits.", code="UNKNOWN_PATIENT")
    if len(patients) > 1:
        raise errors.Conflict(f"{len(patients)} patients match: search with GET /fhir/Patient and choose one.",
                              code="AMBIGUOUS_PATIENT")
    return patients[0]


def _check_identity(patient: dict[str, Any]) -> None:
    """The identity traits of a found Patient have the JSON types the portal's confirmation page and the
    partner API's clients rely on; anything else is a bad answer as a whole (ValueError): an identity is
    never repaired, a clinician must never confirm a garbled one (a ``given`` string spelt letter by letter).

    ``name``: a list of objects, each with ``family`` a string and ``given`` a list of strings; ``identifier``:
    a list of objects with ``system`` and ``value`` strings; ``birthDate`` and ``gender``: strings; each
    element may be absent (FHIR JSON has no nulls: a null is a wrong type too).
    """

    def optional(holder: dict[str, Any], key: str, kind: type) -> Any:
        value = holder.get(key, kind())
        if not isinstance(value, kind):
            raise ValueError(f"a Patient's {key} is not a {kind.__name__}")
        return value

    for name in optional(patient, "name", list):
        if not isinstance(name, dict):
            raise ValueError("a Patient's name is not an object")
        optional(name, "family", str)
        if not all(isinstance(given, str) for given in optional(name, "given", list)):
            raise ValueError("a Patient's given name is not a string")
    for identifier in optional(patient, "identifier", list):
        if not isinstance(identifier, dict):
            raise ValueError("a Patient's identifier is not an object")
        optional(identifier, "system", str)
        optional(identifier, "value", str)
    optional(patient, "birthDate", str)
    optional(patient, "gender", str)


def _summary_bytes(peers: PeerClient, country: TrustedCountry, remote_id: str, ctx: CallContext) -> bytes:
    """The exact bytes of the patient's summary as country A sent them (a fresh TRC assertion per attempt)."""
    return peers.get(country, f"/fhir/Patient/{remote_id}/$summary",
                     headers=lambda: ctx.outgoing_headers(country, patient_id=remote_id)).body


def _parsed_document(peers: PeerClient, country: TrustedCountry, body: bytes) -> dict:
    """The foreign document, its narratives sanitised: no surface (partner API, portal) ever returns the
    foreign narratives as received (they may carry scripts for partner software that renders them)."""
    document = _document_bundle(country, peers.json_of(country, body))
    try:
        with timing.stage("sanitise"):
            narrative.sanitise_document(document)
    except ValueError:
        raise errors.PeerError(f"{country.name} ({country.code}) sent an unreadable patient summary.",
                               code="PEER_BAD_ANSWER") from None
    return document


def summary_abroad(peers: PeerClient, country: TrustedCountry, remote_id: str,
                   ctx: CallContext) -> tuple[dict, str]:
    """The patient's summary as country A sent it (narratives sanitised), and the SHA-256 of the exact
    bytes received (both sides record that digest: what A sent is provably what B received)."""
    body = _summary_bytes(peers, country, remote_id, ctx)
    return _parsed_document(peers, country, body), hashlib.sha256(body).hexdigest()


@dataclass
class SummaryCaches:
    """Country B's summaries in this process, kept on the runtime object (``Runtime.summaries``).

    ``translated``: a received document translated and serialised, by :func:`summary_key` (the one cache of
    the partner API and the portal); ``views`` and ``pdfs``: what the portal derives from it, by that key and
    what else changes them (a view weighs what its translated document does). ``received``: the portal's
    sessions' documents as A sent them. What the portal keeps lives a few minutes at most, in memory only
    (print, PDF, another language without asking A again).
    """

    translated: BoundedCache = field(default_factory=lambda: BoundedCache(1024, max_bytes=64 * 1024 * 1024))
    views: BoundedCache = field(default_factory=lambda: BoundedCache(128, max_bytes=64 * 1024 * 1024, ttl=300))
    pdfs: BoundedCache = field(default_factory=lambda: BoundedCache(64, max_bytes=64 * 1024 * 1024, ttl=300))
    received: BoundedCache = field(default_factory=lambda: BoundedCache(64, ttl=300))


def summary_key(body: bytes, language: str, term: Terminology) -> tuple[bytes, str, tuple[str, ...]]:
    """Everything a translated summary depends on: the digest of A's exact bytes, language, terminology."""
    return hashlib.sha256(body).digest(), language, terminology_service.terminology_version(term)


def translated_summary_abroad(peers: PeerClient, country: TrustedCountry, remote_id: str, ctx: CallContext,
                              term: Terminology, cache: SummaryCaches) -> terminology_service.Translated:
    """The summary, as :func:`summary_abroad`, translated into ``ctx.language`` and serialised (once per
    document content, language and terminology: see :func:`translate_received`)."""
    return translate_received(peers, country, _summary_bytes(peers, country, remote_id, ctx), ctx.language, term,
                              cache)


def summary_bytes_abroad(peers: PeerClient, country: TrustedCountry, remote_id: str, ctx: CallContext) -> bytes:
    """The exact bytes of the patient's summary as country A sent them (the portal keeps them for a
    clinician's session and translates them with :func:`translate_received`, like the partner API)."""
    return _summary_bytes(peers, country, remote_id, ctx)


def translate_received(peers: PeerClient, country: TrustedCountry, body: bytes, language: str,
                       term: Terminology, cache: SummaryCaches) -> terminology_service.Translated:
    """A summary received from ``country``: checked, its narratives sanitised, translated into ``language``
    and serialised, once per :func:`summary_key` in ``cache`` (the runtime's: the one path and cache of the
    partner API and the portal)."""
    key = summary_key(body, language, term)
    hit = cache.translated.get(key)
    if hit is not None:
        return hit
    bundle = _parsed_document(peers, country, body)
    document_id = document_identifier(bundle)
    bundle, coverage = terminology_service.translate(bundle, language, term)
    with timing.stage("serialise"):
        serialised = orjson.dumps(bundle)
    result = terminology_service.Translated(serialised, coverage, language, document_id, key[0].hex())
    cache.translated.put(key, result, weight=len(serialised))
    return result


def _document_bundle(country: TrustedCountry, bundle: Any) -> dict:
    try:
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "document":
            raise ValueError("not a document Bundle")
    except Exception:  # noqa: BLE001 - garbage from the peer
        raise errors.PeerError(f"{country.name} ({country.code}) sent an unreadable patient summary.",
                                code="PEER_BAD_ANSWER") from None
    return bundle


@dataclass(frozen=True)
class OriginalDocument:
    """An original clinical document as country A sent it: its media type, bytes and their SHA-256."""

    media_type: str
    data: bytes
    sha256: str


def has_original(bundle: dict) -> bool:
    """Whether the summary says it was converted from another document (Composition.relatesTo 'transforms'),
    which its country keeps as the original."""
    try:
        composition = bundle["entry"][0]["resource"]
        return any(r.get("code") == "transforms" for r in composition.get("relatesTo") or [])
    except (KeyError, IndexError, TypeError, AttributeError):
        return False


def original_abroad(peers: PeerClient, country: TrustedCountry, remote_id: str, ctx: CallContext,
                    attachment: str | None = None) -> OriginalDocument:
    """The original document of the patient's summary (the CDA), or a document embedded in it (``attachment``:
    its id, e.g. a PDF). What A sends is checked before it is relayed: a CDA must parse with the safe reader
    (no DTD, no entities), a PDF must look like one; anything else is a bad answer."""
    if attachment is not None and not _ATTACHMENT_ID.match(attachment):
        raise errors.BadRequest("'attachment' must be the id of a document embedded in the original.",
                                code="INVALID_PARAMETER")
    resp = peers.get(country, f"/fhir/Patient/{remote_id}/$original-document",
                     params={"attachment": attachment} if attachment else None,
                     headers=lambda: {**ctx.outgoing_headers(country, patient_id=remote_id),
                                      "Accept": ", ".join(ORIGINAL_TYPES)})
    media_type = resp.headers.get("Content-Type", resp.headers.get("content-type", "")).split(";")[0].strip().lower()
    if media_type not in ORIGINAL_TYPES or (attachment is None) != (media_type == CDA_MEDIA_TYPE):
        raise errors.PeerError(f"{country.name} ({country.code}) sent an original document of an unexpected type.",
                               code="PEER_BAD_ANSWER")
    if media_type == CDA_MEDIA_TYPE:
        try:
            parse_cda(resp.body)
        except CdaError:
            raise errors.PeerError(f"{country.name} ({country.code}) sent an unreadable original document.",
                                   code="PEER_BAD_ANSWER") from None
    elif not resp.body.startswith(ORIGINAL_TYPES[media_type]):
        raise errors.PeerError(f"{country.name} ({country.code}) sent an unreadable original document.",
                               code="PEER_BAD_ANSWER")
    return OriginalDocument(media_type, resp.body, hashlib.sha256(resp.body).hexdigest())
