"""The sign-in lockout holds under concurrent attempts: each attempt is counted before its password is checked
(``UserStore.reserve_attempt``), so 16 simultaneous wrong passwords against the real server get no more than
the maximum of password checks, and the name is locked afterwards, for the right password too."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.storage.users import MAX_FAILED_ATTEMPTS
from tests.conftest import Running, make_topology, started
from tests.portal.conftest import Clinician, add_user

ATTEMPTS = 16


@pytest.fixture(scope="module")
def own_countries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """FR and DE of their own: this module's failures from 127.0.0.1 must not throttle other tests' address."""
    topo = make_topology(tmp_path_factory.mktemp("signin-concurrency"), ["FR", "DE"])
    topo.prepare(patients=0)
    with started(topo) as running:
        yield running


def test_concurrent_wrong_passwords_check_no_more_than_the_maximum(own_countries):
    account = add_user(own_countries, "DE", prefix="race")
    browsers = [Clinician(own_countries, "DE") for _ in range(ATTEMPTS)]
    forms = [browser.get("/signin") for browser in browsers]  # each with its own CSRF token

    def attempt(index: int) -> int:
        page = browsers[index].submit(forms[index], "/signin", username=account.username,
                                      password=f"wrong password number {index}")
        return page.status

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        statuses = Counter(pool.map(attempt, range(ATTEMPTS)))
    # checked and refused: 401, except the attempt that reached the maximum (429, it locked the name);
    # every other attempt was refused as locked before its password was looked at (429)
    assert statuses == {401: MAX_FAILED_ATTEMPTS - 1, 429: ATTEMPTS - MAX_FAILED_ATTEMPTS + 1}, statuses
    late = Clinician(own_countries, "DE")
    page = late.sign_in(account.username)  # the right password: the name is locked
    assert page.status == 429
