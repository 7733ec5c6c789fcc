"""Who calls an API, once its blueprint's authentication hook has checked it: ``flask.g.principal``.

One place for the authenticated caller of a request, read by the views (the partner API's clinician),
by the audit hook (peer country, HCP assertion) and by nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: security does not depend on storage
    from gateway.security.assertions import Clinician
    from gateway.security.trustlist import TrustedCountry
    from gateway.storage.clients import Client

CLIENT = "client"  # partner software or the national patient portal, by OAuth 2.0 access token
NCPEH = "ncpeh"  # another country's NCPeH, by mutual-TLS certificate on the trust list


@dataclass(frozen=True)
class Principal:
    kind: str
    id: str  # the OAuth client id, or the country code
    scopes: frozenset[str] = frozenset()
    client: Client | None = field(default=None, repr=False)
    country: TrustedCountry | None = field(default=None, repr=False)
    #: the clinician the partner software acts for (verified X-Clinician-Assertion) and the purpose
    clinician: Clinician | None = None
    purpose: str | None = None
    #: the verified HCP and TRC assertions of a calling NCPeH (identifiers only, no token)
    hcp: Mapping[str, Any] | None = None
    trc: Mapping[str, Any] | None = None
