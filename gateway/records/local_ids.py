"""Local ids of foreign patients: ``<country>-<their id>`` (``fr-07acba8e``), the one definition.

Country B never keeps foreign patients; it names a patient found abroad by the code of its country
(lower case) and the id the foreign NCPeH gave it, so that a later ``$summary`` knows where to ask.
"""

from __future__ import annotations

import re

LOCAL_ID = re.compile(r"^([a-z]{2})-([A-Za-z0-9.]{1,60})$")
#: The ids a foreign NCPeH may give its patients (a FHIR id, as far as LOCAL_ID can carry it back).
REMOTE_ID = re.compile(r"^[A-Za-z0-9.]{1,60}$")


def make_local_id(country_code: str, remote_id: str) -> str:
    """The id under which a foreign patient is known here: '<country>-<their id>'."""
    return f"{country_code.lower()}-{remote_id}"


def parse_local_id(value: str | None) -> tuple[str, str] | None:
    """(upper-case country code, remote id) of a local id, or None when it is not one."""
    match = LOCAL_ID.match(value or "")
    return (match.group(1).upper(), match.group(2)) if match else None
