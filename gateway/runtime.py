"""Process-wide state of one instance (configuration, trust list, keys, peer connections)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app

from gateway.config import CountryConfig
from gateway.security.assertions import AssertionSigner
from gateway.security.trustlist import TrustList, TrustState
from gateway.services.audit_anchor import AuditAnchor
from gateway.services.crossborder import SummaryCaches
from gateway.services.peers import PeerClient
from terminology import Terminology


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
    #: country B's translated summaries (partner API and portal), the portal's views and PDFs of them
    summaries: SummaryCaches = field(default_factory=SummaryCaches, repr=False)

    def __post_init__(self) -> None:
        self.signing_public_key = self.signing_key.public_key()  # verifies this instance's access tokens
        self.anchor = AuditAnchor(self.cfg, self.signing_key, self.signing_kid)

    @property
    def trust(self) -> TrustList | None:
        return self.trust_state.current()

    def signer(self) -> AssertionSigner:
        """Signs this NCPeH's HCP and TRC assertions with the active signing key (``certs.signing_key``)."""
        return AssertionSigner(self.cfg.code, self.cfg.ncp.url, self.signing_kid, self.signing_key)


def runtime() -> Runtime:
    return current_app.extensions["ncpeh"]
