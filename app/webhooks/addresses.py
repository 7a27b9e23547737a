"""Which addresses a webhook may be sent to (the guard against server-side request forgery).

A receiver must be on the public internet: loopback, link-local, private, shared, multicast,
reserved and unspecified addresses are refused, for IPv4 and IPv6 alike, including IPv4
addresses wrapped in IPv6 (mapped, NAT64, 6to4). A host name is resolved and every address it
has is checked, when the subscription is saved and again before each send, since DNS may
change; the send then goes to an address that was checked, never to a second lookup.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeAddress(ValueError):
    """The sentence says why, for the person who typed the address."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written, without brackets
    port: int
    addresses: list[IPAddress]


def _embedded(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address stands for, if it stands for one."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def refusal(ip: IPAddress) -> str | None:
    """Why this address is not a public one, or None when it is."""
    inner = _embedded(ip)
    for kind, flag in (("a loopback", inner.is_loopback), ("a link-local", inner.is_link_local),
                       ("a multicast", inner.is_multicast),
                       ("an unspecified", inner.is_unspecified),
                       ("a private", inner.is_private), ("a reserved", inner.is_reserved),
                       ("a site-local", getattr(inner, "is_site_local", False)),
                       ("a non-public", not inner.is_global)):
        if flag:
            return f"{ip} is {kind} address."
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeAddress(f"The host {host} could not be found.") from exc
    found: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise UnsafeAddress(f"The host {host} could not be found.")
    return found


def check(url: str, allow_private: bool) -> Target:
    """The checked target of ``url``; raises UnsafeAddress with a sentence for a person."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeAddress("This is not a valid web address.") from exc
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeAddress("Use an address starting with https://")
    if parts.username is not None or parts.password is not None:
        raise UnsafeAddress("Leave the user name and password out of the address: "
                            "the signature tells the receiver the request is from Rapport.")
    host = parts.hostname
    if not host:
        raise UnsafeAddress("The address needs a host name, such as https://crm.example.edu/")
    if port == 0:  # no receiver listens there; left as it was, it would read as "no port"
        raise UnsafeAddress("Port 0 cannot receive requests: leave the port out, or give the "
                            "receiver's own.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = resolve(host, port)
    if not allow_private:
        for ip in addresses:
            why = refusal(ip)
            if why is not None:
                raise UnsafeAddress(f"Webhooks can only go to public addresses: {why}")
    return Target(parts.scheme, host, port, addresses)
