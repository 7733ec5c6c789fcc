"""Per-address limits key an IPv6 client by its /64 (second review of #24, finding 6)."""

from __future__ import annotations

import pytest

from gateway.security.addresses import client_network


@pytest.mark.parametrize(("address", "network"), [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),  # the same client as above
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),  # another subnet, another client
    ("::ffff:192.0.2.7", "192.0.2.7"),  # IPv4-mapped: the IPv4 host
    ("fe80::1%eth0", "fe80::/64"),
    ("not an address", "not an address"),
    (None, None),
])
def test_client_network(address, network):
    assert client_network(address) == network
