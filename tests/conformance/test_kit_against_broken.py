"""The kit against deliberately broken NCPeHs (tests/conformance/broken_ncpeh.py: this project's app with one
fault, over HTTPS with FR's certificates): each defect is caught by the check meant for it, exit status 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.conftest import broken_ncpeh, junit_outcomes, patient_args
from tests.conftest import Running

#: fault -> the checks that must fail (and no other)
CAUGHT_BY = {
    "accepts-expired": {"AS-HCP-EXPIRED", "AS-TRC-EXPIRED"},
    "ignores-replay": {"AS-TRC-REPLAY"},
    "refuses-hcp-reuse": {"AS-HCP-REUSE"},
    "non-document": {"SUM-DOCUMENT"},
    # it asks for no certificate at all, so one from an unknown CA is not refused either
    "no-client-cert": {"TLS-CLIENT-CERT-REQUIRED", "TLS-OTHER-CA-REFUSED"},
    "old-tls": {"TLS-NO-TLS10", "TLS-NO-TLS11"},
}


@pytest.mark.parametrize("fault", sorted(CAUGHT_BY))
def test_each_defect_is_caught_by_its_check(countries: Running, kit, tmp_path: Path, fault: str) -> None:
    junit = tmp_path / "kit.xml"
    with broken_ncpeh(countries, fault, tmp_path) as target:
        result = kit(target, *patient_args(), "--calls", "2", "--junit", str(junit))
    assert result.returncode == 1, result.stdout + result.stderr
    outcomes = junit_outcomes(junit)
    assert {i for i, s in outcomes.items() if s == "fail"} == CAUGHT_BY[fault], result.stdout
    assert "NOT CONFORMANT: an error-level check failed" in result.stdout
    failure_lines = [line for line in result.stdout.splitlines() if line.startswith("FAIL  ")]
    assert all(line.endswith("[error]") for line in failure_lines)


def test_the_failure_says_what_was_accepted(countries: Running, kit, tmp_path: Path) -> None:
    with broken_ncpeh(countries, "non-document", tmp_path) as target:
        result = kit(target, *patient_args(), "--only", "SUM-DOCUMENT", "--only", "SUM-OK")
    assert result.returncode == 1
    assert "FAIL  SUM-DOCUMENT               got Bundle of type 'collection' [error]" in result.stdout
    assert "2 checks: 1 passed, 1 failed (1 error, 0 warning), 0 skipped" in result.stdout
