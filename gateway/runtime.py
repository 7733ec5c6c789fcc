"""Process-wide state of one instance (configuration, trust list, keys, peer connections)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app

from gateway.config import CountryConfig
from gateway.security.assertions import AssertionSigner
from gateway.security.trustlist import TrustList, TrustState
from gateway.services.audit_anchor import AuditAnchor
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

    def __post_init__(self) -> None:
        self.signing_public_key = self.signing_key.public_key()  # verifies this instance's access tokens
        self.anchor = AuditAnchor(self.cfg, self.signing_key, self.signing_kid)
        if self.cfg.totp_key_in_data_dir:  # also on /_status (TOTP_KEY_IN_DATA_DIR)
            log.warning("the TOTP key %s is in the data directory %s, beside the database (same volume, same "
                        "backups: a copy of both opens the second factors); set totp_key_file "
                        "(NCPEH_TOTP_KEY_FILE) to a path elsewhere", self.cfg.totp_key_path, self.cfg.data_dir)

    @property
    def trust(self) -> TrustList | None:
        return self.trust_state.current()

    def signer(self) -> AssertionSigner:
        """Signs this NCPeH's HCP and TRC assertions with the active signing key (``certs.signing_key``)."""
        return AssertionSigner(self.cfg.code, self.cfg.ncp.url, self.signing_kid, self.signing_key)


def runtime() -> Runtime:
    return current_app.extensions["ncpeh"]
