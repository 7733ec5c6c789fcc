"""Country A verifies the HCP and TRC assertions of a request, and keeps a verified HCP assertion until it expires."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import orjson

from gateway import errors, timing
from gateway.security import jws, policy
from gateway.security.assertions.common import (
    ALGORITHM,
    CLAIM_MAX,
    CLOCK_SKEW,
    HCP_TYPE,
    MAX_LIFETIME,
    MAX_TOKEN_CHARS,
    TRC_TYPE,
    AssertionRejected,
    home_community_id,
)
from gateway.security.sessions import ExpiringCache
from gateway.security.trustlist import TrustedCountry, TrustList


class ReplayRegistry:
    """What the verifier needs from the replay cache (gateway.storage.replay.ReplayCache fits)."""

    def remember_all(self, issuer: str, items: list[tuple[str, str, int]]) -> set[str]:  # pragma: no cover
        """Record every (jti, kind, expires_at) at once; returns the jtis that were not seen before."""
        raise NotImplementedError


@dataclass
class Verified:
    """One assertion after verification: its kind ("HCP" or "TRC"), header, claims and signing key id."""

    kind: str
    header: dict[str, Any]
    claims: dict[str, Any]
    kid: str = ""

    @property
    def iua(self) -> dict[str, Any]:
        ext = self.claims.get("extensions")
        iua = ext.get("ihe_iua") if isinstance(ext, dict) else None
        return iua if isinstance(iua, dict) else {}

    @property
    def purpose(self) -> str | None:
        source = self.iua.get("purpose_of_use") if self.kind == "HCP" else self.claims.get("purpose_of_use")
        return _code(source, policy.PURPOSE_SYSTEM)

    @property
    def role(self) -> str | None:
        return _code(self.iua.get("subject_role"), policy.ROLE_SYSTEM)

    def summary(self) -> dict[str, Any]:
        """What may be recorded about the clinician (audit): no token, no signature."""
        iua = self.iua
        return {"sub": self.claims.get("sub"), "name": iua.get("subject_name"),
                "organisation": iua.get("subject_organization"),
                "organisation_id": iua.get("subject_organization_id"), "role": self.role,
                "purpose": self.purpose, "jti": self.claims.get("jti"), "locale": self.claims.get("locale")}


def _code(value: Any, system: str) -> str | None:
    """The code of a ``{"system", "code"}`` claim, None when absent or in another system."""
    if not isinstance(value, dict):
        return None
    if value.get("system", system) != system:
        return None
    code = value.get("code")
    return code if isinstance(code, str) and code else None


def _reject(kind: str, code: str, message: str) -> AssertionRejected:
    return AssertionRejected(f"{kind} assertion: {message}", code=code)


@dataclass(frozen=True)
class KeptHcp:
    """An HCP assertion verified in full (steps 1-5), kept until ``until`` (its ``exp`` + clock skew) for
    the trust list it was verified under (compared by identity: any reload verifies it again)."""

    verified: Verified
    trust: TrustList = field(repr=False)
    until: int


class AssertionVerifier:
    """Verifies the assertions of one request received from ``peer`` (the TLS client's country).

    With ``sessions`` (the runtime's cache of verified HCP assertions) and the request's TLS
    ``client_certificate`` (DER), an HCP assertion verified once is kept until it expires, bound to
    (its SHA-256, the certificate's SHA-256, the audience, the trust list's sequence), and used only
    while the current trust list is the very one it was verified under. Without them every HCP
    assertion is verified in full.
    """

    def __init__(self, trust: TrustList, peer: TrustedCountry, audience: str, replay: ReplayRegistry,
                 clock: Callable[[], float] = time.time, *, sessions: ExpiringCache[KeptHcp] | None = None,
                 client_certificate: bytes | None = None) -> None:
        self.trust, self.peer, self.audience, self.replay, self.clock = trust, peer, audience, replay, clock
        self.sessions = sessions if client_certificate else None
        self.client_sha256 = hashlib.sha256(client_certificate).digest() if client_certificate else b""
        #: The HCP assertion once its signature, audience and time window (and the TRC's jti) passed, or once
        #: found kept (for the audit record of a refusal at a later step: identity, policy, TRC); None before.
        self.authentic_hcp: Verified | None = None

    def _session_key(self, hcp_token: str) -> tuple[bytes, bytes, str, int]:
        return (hashlib.sha256(hcp_token.encode("utf-8", "surrogatepass")).digest(), self.client_sha256,
                self.audience, self.trust.sequence)

    def _kept(self, key: tuple[bytes, bytes, str, int] | None, now: int) -> Verified | None:
        """The HCP assertion verified earlier over this certificate, for this audience, under this very
        trust list and its key still listed, while it has not expired; else None (verify it in full)."""
        if key is None or self.sessions is None:
            return None
        # fail closed: under a reloaded list (a country removed, a key revoked) the assertion is verified again
        kept = self.sessions.get(key, now, lambda k: k.trust is self.trust and k.verified.kid in self.peer.signing_keys
                                 and now <= k.until)
        return kept.verified if kept is not None else None

    def verify(self, hcp_token: str | None, trc_token: str | None = None, *, require_trc: bool = False,
               patient_id: str | None = None) -> tuple[Verified, Verified | None]:
        if not hcp_token:
            raise _reject("HCP", "HCP_ASSERTION_MISSING",
                          "missing; send the clinician's identity assertion as 'Authorization: Bearer <jwt>'.")
        hcp_token = hcp_token.strip()
        with_trc = require_trc and bool(trc_token)
        now = int(self.clock())
        with timing.stage("hcp-session"):  # an HCP assertion already verified over this certificate, if any
            key = self._session_key(hcp_token) if self.sessions is not None and len(hcp_token) <= MAX_TOKEN_CHARS \
                else None
            kept = self._kept(key, now)
        tokens = ([] if kept else [("HCP", HCP_TYPE, hcp_token)]) + \
            ([("TRC", TRC_TYPE, trc_token or "")] if with_trc else [])
        # 1. signature, by a key of the TLS client's country, with the pinned algorithm; type; issuer
        verified = [self._signature(kind, token) for kind, _, token in tokens]
        for item, (_, typ, _) in zip(verified, tokens, strict=True):
            self._type_and_issuer(item, typ)
        # 2. audience
        for item in verified:
            self._audience(item)
        # 3. time window
        for item in verified:
            self._time(item, now)
        # 4. the jtis are well formed; the TRC's was never seen before (the HCP's is not single-use)
        self._fresh(verified)
        # 5. the clinician's identity claims (an HCP assertion verified in full is kept until it expires)
        hcp = self.authentic_hcp = kept or verified.pop(0)
        if kept is None:
            self._identity(hcp)
            if key is not None and self.sessions is not None:
                until = int(hcp.claims["exp"]) + CLOCK_SKEW
                self.sessions.put(key, KeptHcp(hcp, self.trust, until), until + 1, now)
        # 6. role and purpose by the policy table (on every call)
        policy.check(hcp.role, hcp.purpose)
        # 7. the TRC binds this clinician, this purpose and the requested patient; an authenticated clinician
        # without one is not authorised for the summary (403, like the other TRC refusals)
        if require_trc and not with_trc:
            raise errors.Forbidden("This operation needs the treatment relationship assertion of the clinician "
                                   "('X-TRC-Assertion' header).", code="TRC_ASSERTION_MISSING")
        trc = verified[0] if with_trc else None
        if trc is not None:
            self._binding(hcp, trc, patient_id)
        return hcp, trc

    # -- the steps ---------------------------------------------------------------------------------

    def _signature(self, kind: str, token: str) -> Verified:
        """Step 1 (stage ``hcp-signature`` or ``trc-signature`` of Server-Timing: a kept HCP assertion has none)."""
        with timing.stage(f"{kind.lower()}-signature"):
            return self._read_and_check_signature(kind, token)

    def _read_and_check_signature(self, kind: str, token: str) -> Verified:
        token = token.strip()
        if len(token) > MAX_TOKEN_CHARS:
            raise _reject(kind, "ASSERTION_TOO_LARGE", f"longer than {MAX_TOKEN_CHARS} characters.")
        try:
            compact = jws.parse(token)  # read once: the header chooses the key, then the signature is checked
        except (jwt.PyJWTError, ValueError, TypeError, UnicodeError):
            raise _reject(kind, "ASSERTION_MALFORMED", "not a compact JWS (header.payload.signature).") from None
        header = compact.header
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise _reject(kind, "ASSERTION_ALGORITHM_REFUSED",
                          f"algorithm {str(alg)[:20]!r} is refused; assertions must be signed with {ALGORITHM}.")
        if "crit" in header:
            raise _reject(kind, "ASSERTION_MALFORMED", "critical header extensions are not supported.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _reject(kind, "ASSERTION_MALFORMED", "the JWS header has no 'kid' naming the signing key.")
        key = self.peer.signing_keys.get(kid)
        if key is None:
            owner = next((c.code for c in self.trust.countries.values() if kid in c.signing_keys), None)
            if owner is not None:
                raise _reject(kind, "ASSERTION_KEY_COUNTRY_MISMATCH",
                              f"signed with a key of {owner}, but the TLS certificate is {self.peer.code}'s.")
            raise _reject(kind, "ASSERTION_UNKNOWN_KEY",
                          f"key {kid[:32]!r} is not among {self.peer.code}'s signing keys in the trust list.")
        if not jws.verify_es256(compact, key):
            raise _reject(kind, "ASSERTION_SIGNATURE_INVALID", "the signature does not verify.")
        try:
            claims = orjson.loads(compact.payload)
        except orjson.JSONDecodeError:
            claims = None
        if not isinstance(claims, dict):
            raise _reject(kind, "ASSERTION_MALFORMED", "the payload is not a JSON object.")
        return Verified(kind, header, claims, kid)

    def _type_and_issuer(self, item: Verified, typ: str) -> None:
        if item.header.get("typ") != typ:
            raise _reject(item.kind, "ASSERTION_WRONG_TYPE",
                          f"header 'typ' must be {typ!r}, got {str(item.header.get('typ'))[:20]!r}.")
        if item.claims.get("iss") != self.peer.ncp_url:
            raise _reject(item.kind, "ASSERTION_ISSUER_MISMATCH",
                          f"'iss' must be the NCPeH of {self.peer.code} ({self.peer.ncp_url}).")

    def _audience(self, item: Verified) -> None:
        aud = item.claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.audience not in audiences:
            raise _reject(item.kind, "ASSERTION_WRONG_AUDIENCE", f"'aud' must be {self.audience}.")

    def _time(self, item: Verified, now: int) -> None:
        values = {}
        for name in ("iat", "nbf", "exp"):
            value = item.claims.get(name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _reject(item.kind, "ASSERTION_CLAIM_MISSING", f"claim '{name}' (NumericDate) is required.")
            values[name] = int(value)
        if now > values["exp"] + CLOCK_SKEW:
            raise _reject(item.kind, "ASSERTION_EXPIRED", f"expired {now - values['exp']} s ago.")
        if values["nbf"] > now + CLOCK_SKEW or values["iat"] > now + CLOCK_SKEW:
            raise _reject(item.kind, "ASSERTION_NOT_YET_VALID",
                          f"not valid yet (clock skew allowed: {CLOCK_SKEW} s).")
        longest = MAX_LIFETIME[item.kind]
        if values["exp"] - min(values["iat"], values["nbf"]) > longest:
            raise _reject(item.kind, "ASSERTION_LIFETIME_TOO_LONG",
                          f"valid for longer than the maximum of {longest} s.")

    def _fresh(self, verified: list[Verified]) -> None:
        """Every jti well formed; the TRC assertions' recorded in the replay cache, refused when seen before.

        The HCP assertion's jti is not recorded: it may come with every call of the clinician's session."""
        items, single_use = [], []
        for item in verified:
            jti = item.claims.get("jti")
            if not isinstance(jti, str) or not 8 <= len(jti) <= 128:
                raise _reject(item.kind, "ASSERTION_CLAIM_MISSING", "claim 'jti' (8 to 128 characters) is required.")
            if item.kind != "HCP":
                single_use.append(item)
                items.append((jti, item.kind, int(item.claims["exp"]) + CLOCK_SKEW))
        if not items:
            return
        new = self.replay.remember_all(self.peer.code, items)
        for item, (jti, _, _) in zip(single_use, items, strict=True):
            if jti not in new:
                raise _reject(item.kind, "ASSERTION_REPLAYED", "this 'jti' was already used; sign a new assertion.")
            new.discard(jti)  # the same jti twice in one request: the second is a replay

    def _identity(self, hcp: Verified) -> None:
        def text(value: Any) -> bool:
            return isinstance(value, str) and 0 < len(value) <= CLAIM_MAX

        if not text(hcp.claims.get("sub")):
            raise _reject("HCP", "ASSERTION_CLAIM_MISSING", "claim 'sub' (the clinician's id) is required.")
        if not hcp.iua:
            raise _reject("HCP", "ASSERTION_CLAIM_MISSING", "claim 'extensions.ihe_iua' is required.")
        for name in ("subject_name", "subject_organization", "subject_organization_id",
                     "national_provider_identifier", "home_community_id"):
            if not text(hcp.iua.get(name)):
                raise _reject("HCP", "ASSERTION_CLAIM_MISSING", f"claim 'extensions.ihe_iua.{name}' is required.")
        if hcp.iua["home_community_id"] != home_community_id(self.peer.code):
            raise _reject("HCP", "ASSERTION_ISSUER_MISMATCH",
                          f"'home_community_id' must be {home_community_id(self.peer.code)}.")

    def _binding(self, hcp: Verified, trc: Verified, patient_id: str | None) -> None:
        if trc.claims.get("sub") != hcp.claims.get("sub"):
            raise errors.Forbidden("The TRC assertion was issued for another clinician than the HCP assertion.",
                                   code="TRC_CLINICIAN_MISMATCH")
        if trc.purpose is None:
            raise errors.Forbidden("The TRC assertion has no purpose of use.", code="PURPOSE_OF_USE_MISSING")
        if trc.purpose != hcp.purpose:
            raise errors.Forbidden("The TRC assertion and the HCP assertion give different purposes of use.",
                                   code="TRC_PURPOSE_MISMATCH")
        if not patient_id or trc.claims.get("patient_id") != patient_id:
            raise errors.Forbidden("The TRC assertion was issued for another patient than the one requested.",
                                   code="TRC_PATIENT_MISMATCH")
