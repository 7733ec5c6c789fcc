"""Process-wide state of one instance (configuration, trust list, keys, peer connections)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app

from gateway.config import CountryConfig
from gateway.security.assertions import AssertionSigner, KeptHcp
from gateway.security.jws import VerifiedTokens
from gateway.security.sessions import ExpiringCache
from gateway.security.trustlist import TrustList, TrustState
from gateway.services.audit_anchor import AuditAnchor
from gateway.services.caches import BoundedCache
from gateway.services.crossborder import SummaryCaches
from gateway.services.pdf_fonts import PdfFonts
from gateway.services.peers import PeerClient
from terminology import Terminology

log = logging.getLogger("ncpeh.runtime")


@dataclass
class Runtime:
    cfg: CountryConfig
    surface: str
    trust_state: TrustState
    peers: PeerClient
    signing_kid: str
    signing_key: ec.EllipticCurvePrivateKey = field(repr=False)
    #: shipped data + $TERMINOLOGY_EXTRA_DIRS + sources imported into <data_dir>/terminology (loaded at start)
    terminology: Terminology = field(repr=False)
    started_at: float = field(default_factory=time.time)
    signing_public_key: ec.EllipticCurvePublicKey = field(init=False, repr=False)
    anchor: AuditAnchor = field(init=False, repr=False)  # signed checkpoints of the audit chain
    #: Country B: the HCP assertion of each clinician session, per destination (see AssertionSigner.session_hcp).
    hcp_sessions: ExpiringCache[str] = field(default_factory=ExpiringCache, repr=False)
    #: Country A: HCP assertions verified once, until they expire (per process: each worker, each node
    #: verifies an assertion once; see AssertionVerifier).
    hcp_verified: ExpiringCache[KeptHcp] = field(default_factory=ExpiringCache, repr=False)
    #: Country B: access tokens and partners' clinician assertions that verified, until they expire (a
    #: partner sends the same ones with each call; see gateway.security.jws.VerifiedTokens).
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens, repr=False)
    #: country B's translated summaries (partner API and portal), the portal's views and PDFs of them
    summaries: SummaryCaches = field(default_factory=SummaryCaches, repr=False)
    #: country B: the portal PDF's fonts, cut down once per process (see gateway.services.pdf_fonts)
    pdf_fonts: PdfFonts = field(default_factory=PdfFonts, repr=False)
    #: country A: stored summaries as released (transcoded, serialised), by content hash and terminology
    released: BoundedCache = field(default_factory=lambda: BoundedCache(512), repr=False)

    def __post_init__(self) -> None:
        self.signing_public_key = self.signing_key.public_key()  # verifies this instance's access tokens
        self.anchor = AuditAnchor(self.cfg, self.signing_key, self.signing_kid)

    def log_weaknesses(self) -> None:
        """Warnings about the layout, logged once the instance has opened its database (a start that fails
        says only why it failed)."""
        self.anchor.log_weaknesses()
        if self.cfg.totp_key_in_data_dir:  # also on /_status (TOTP_KEY_IN_DATA_DIR)
            log.warning("the TOTP key %s is in the data directory %s, beside the database (same volume, same "
                        "backups: a copy of both opens the second factors); set totp_key_file "
                        "(NCPEH_TOTP_KEY_FILE) to a path elsewhere", self.cfg.totp_key_path, self.cfg.data_dir)

    @property
    def trust(self) -> TrustList | None:
        return self.trust_state.current()

    def signer(self) -> AssertionSigner:
        """Signs this NCPeH's HCP and TRC assertions with the active signing key (``certs.signing_key``); keeps
        each clinician session's HCP assertion in :attr:`hcp_sessions`."""
        return AssertionSigner(self.cfg.code, self.cfg.ncp.url, self.signing_kid, self.signing_key,
                               sessions=self.hcp_sessions, hcp_lifetime=self.cfg.hcp_lifetime)


def runtime() -> Runtime:
    return current_app.extensions["ncpeh"]
