"""Which URLs a webhook may target, and the addresses a delivery may connect to (server-side request forgery).

A URL must be ``https`` (``http`` only when the operator allows it: ``ENGPASS_WEBHOOKS_ALLOW_HTTP``). Its host is
resolved when the endpoint is saved and again at every attempt; the attempt then connects to the address that
was checked (``transport``), so a name that resolves differently in between (DNS rebinding) changes nothing.
Loopback, private, link-local, multicast, reserved, unspecified and other non-global addresses, IPv4 and IPv6
(an IPv4-mapped IPv6 address is judged as the IPv4 address it carries), are refused unless the operator allows
them (``ENGPASS_WEBHOOKS_ALLOW_PRIVATE_TARGETS``): an endpoint must never reach the machines behind our firewall.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """A URL or an address a webhook must not reach; the message says why, in English, for the delivery log."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: IPAddress


def address_problem(address: IPAddress) -> str | None:
    """Why an address is off limits, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for name in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{name}"):
            return name.replace("_", "-")
    return None if address.is_global else "not-global"


def split(url: str, *, allow_http: bool) -> SplitResult:
    """The URL's parts, or TargetRefused for a scheme, host or port a webhook may not use."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a URL: {exc}") from None
    if parts.scheme not in (("https", "http") if allow_http else ("https",)):
        raise TargetRefused("the URL must start with https://")
    if not parts.hostname:
        raise TargetRefused("the URL names no host")
    if parts.username or parts.password:
        raise TargetRefused("the URL must not carry a user name or password")
    if port == 0:
        raise TargetRefused("port 0 is not a port")
    return parts


def resolve(url: str, *, allow_http: bool, allow_private: bool) -> Target:
    """The URL's first acceptable address; TargetRefused when the URL or every address it resolves to is refused.

    Every address the name resolves to must be acceptable: a name with one public and one private address
    would otherwise let the receiver's DNS choose our connection."""
    parts = split(url, allow_http=allow_http)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetUnresolved(f"{host} does not resolve: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not allow_private:
        for address in addresses:
            problem = address_problem(address)
            if problem is not None:
                raise TargetRefused(f"{host} resolves to {address} ({problem})")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0])


class TargetUnresolved(ConnectionError):
    """The host does not resolve now: maybe later (a delivery retries), maybe never (a form says so)."""
