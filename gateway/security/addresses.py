"""The network a client address stands for, as the per-address limits count it.

An IPv4 address is one host. Anyone holding an IPv6 address usually holds its whole /64 (one subnet is
what a home or a server gets), so per-address limits key IPv6 clients by their /64: otherwise each
attempt could come from a fresh address and the limit would not limit anything.
"""

from __future__ import annotations

import ipaddress

#: Prefix length that identifies one IPv6 client.
IPV6_CLIENT_PREFIX = 64


def client_network(address: str | None) -> str | None:
    """``address`` for IPv4 (and IPv4-mapped IPv6), its /64 network for IPv6; unparseable text unchanged."""
    if not address:
        return address
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)
