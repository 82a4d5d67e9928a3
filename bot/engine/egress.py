"""Where Facto may send a merchant's webhooks: public addresses only (SSRF).

A merchant picks the URL, Facto makes the request from inside its own network: without this
check a URL could read the cloud metadata service (169.254.169.254), an internal admin page or
the Redis next door. Checked twice: at registration (literal addresses and names that can only
be internal, a precise 422) and at delivery, on the addresses the name resolves to then (a name
can be pointed at 10.0.0.1 after registration), both before the request and inside the
connector's resolver, so the address connected to is the address checked.

Loopback is refused too, unless FACTO_WEBHOOKS_ALLOW_LOOPBACK is set: the demo and the tests
receive webhooks on 127.0.0.1; a production server never should.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that only ever mean something inside a network (cloud metadata, the host itself).
_INTERNAL_NAMES = ("localhost", "metadata.google.internal", "metadata")
_INTERNAL_SUFFIXES = (".localhost", ".internal", ".local")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class RefusedAddress(Exception):
    """The URL's host is, or resolves to, an address Facto does not send to."""


def address_refusal(ip: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why Facto will not connect to this address, or None if it is public."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return address_refusal(ip.ipv4_mapped, allow_loopback=allow_loopback)
    if ip in _METADATA:
        return f"{ip} is a cloud metadata address"
    if ip.is_unspecified:  # 0.0.0.0 reaches this very host on Linux
        return f"{ip} is not a public address"
    if ip.is_loopback:
        return None if allow_loopback else f"{ip} is a loopback address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_private:
        return f"{ip} is a private network address"
    if not ip.is_global:  # shared (100.64/10), reserved, multicast, unspecified
        return f"{ip} is not a public address"
    return None


def host_refusal(host: str, *, allow_loopback: bool) -> str | None:
    """At registration, without resolving: a literal address or an internal-only name."""
    name = host.strip("[]").rstrip(".").lower()
    try:
        return address_refusal(ipaddress.ip_address(name), allow_loopback=allow_loopback)
    except ValueError:
        pass
    if name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES):
        loopback = name == "localhost" or name.endswith(".localhost")
        if loopback and allow_loopback:
            return None
        return f"{name} is an internal host name"
    return None


async def check_resolved(host: str, port: int, *, allow_loopback: bool) -> None:
    """At delivery: every address the host resolves to now must be public."""
    refused = host_refusal(host, allow_loopback=allow_loopback)
    if refused is None and not _is_literal(host):
        for ip in await resolve(host, port):
            refused = refused or address_refusal(ip, allow_loopback=allow_loopback)
    if refused:
        raise RefusedAddress(refused)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses a name resolves to now (the system's resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class GuardedResolver(AbstractResolver):
    """The connector's resolver: drops refused addresses, so a name re-pointed between the
    check and the connection (DNS rebinding) still cannot reach them."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback
        self.inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        kept = [
            r
            for r in found
            if address_refusal(
                ipaddress.ip_address(r["host"].split("%")[0]), allow_loopback=self.allow_loopback
            )
            is None
        ]
        if not kept:
            raise OSError(f"{host} resolves only to refused addresses")
        return kept

    async def close(self) -> None:
        await self.inner.close()
