"""One table of occupations (gateway.security.policy.OCCUPATIONS): the policy, the command line's role names
and the portal's translated labels all name the same ISCO-08 codes."""

from __future__ import annotations

import pytest

from gateway.errors import Forbidden
from gateway.security import policy
from gateway.services import accounts
from gateway.surfaces.portal import base as portal


def test_the_policy_is_the_allowed_part_of_the_occupations():
    assert set(policy.ROLES) <= set(policy.OCCUPATIONS)
    for code, role in policy.OCCUPATIONS.items():
        if role.purposes:
            assert policy.check(code, sorted(role.purposes)[0]) is role
        else:
            with pytest.raises(Forbidden) as refused:
                policy.check(code, policy.TREATMENT)
            assert refused.value.code == "ROLE_NOT_ALLOWED"


def test_command_line_names_resolve_to_the_table_codes():
    assert accounts.ROLE_ALIASES is policy.ROLE_NAMES
    assert accounts.resolve_role("physician") == "221" and accounts.resolve_role("Medical-Secretary") == "3344"
    assert set(policy.ROLE_NAMES.values()) <= set(policy.OCCUPATIONS)


def test_the_portal_translates_every_occupation_of_the_table():
    assert set(portal.ROLE_LABELS) == set(policy.OCCUPATIONS)
