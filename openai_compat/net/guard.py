"""Refuse to let a client make the gateway fetch from inside its own network (SSRF).

An image URL in a chat request makes the gateway open a connection on the client's behalf; on a
PaaS host that could reach a cloud metadata service or a private service. Every hop, redirects
included, must resolve only to public addresses, and the address each connection actually reaches
is checked again (`net.transport.PublicOnlyAdapter`), so DNS rebinding between the two is refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from openai_compat.errors import InvalidRequestError

Resolver = Callable[[str, int], list[str]]

_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",  # carrier-grade NAT; Alibaba Cloud's metadata service (100.100.100.200)
        "169.254.0.0/16",  # link-local: AWS, GCP, Azure metadata (169.254.169.254)
        "192.0.0.0/24",  # IETF protocol assignments; Oracle Cloud's metadata service (192.0.0.192)
        "168.63.129.16/32",  # Azure's platform endpoint (WireServer)
        "fc00::/7",  # unique local: AWS's IPv6 metadata service (fd00:ec2::254)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated, still routed inside some networks)
        "64:ff9b::/96",  # NAT64: could reach any IPv4 address, private ones included
        "2002::/16",  # 6to4: embeds an IPv4 address, private ones included
        "2001:db8::/32",  # documentation
    )
)


class PrivatePeerError(OSError):
    """A fetch connection reached a non-public address after its host had resolved to public ones."""


def private_address_error(url: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"The URL {url[:200]!r} points at a private, loopback or link-local address; "
        "the gateway only fetches from public hosts.",
        param=param,
        code="invalid_image_url",
    )


def system_resolver(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _BLOCKED_NETWORKS if network.version == ip.version):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def check_public_url(url: str, param: str, resolve: Resolver = system_resolver) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidRequestError(f"The URL {url[:200]!r} is malformed.", param=param) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(f"Only http(s) URLs can be fetched, not {url[:80]!r}.", param=param)
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError):
        raise InvalidRequestError(f"Could not resolve the host of {url[:200]!r}.", param=param) from None
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise private_address_error(url, param)
