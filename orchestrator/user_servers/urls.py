"""Which server URLs we send to: http(s) only, and no address inside our own network."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

# Names every resolver sends to the machine itself, whatever DNS says.
_LOCAL_NAMES = ("localhost", "localhost.localdomain")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_internal(address: IpAddress) -> bool:
    """Loopback, private, link-local (cloud metadata lives there), multicast or reserved."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _literal_address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def server_url_problems(url: str, *, allow_private: bool) -> list[str]:
    """What is wrong with ``url`` as a server to send to, judged without resolving it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError:
        return ["must be a valid URL"]
    if parts.scheme not in ("http", "https"):
        return ["must be an http or https URL"]
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return ["must name a host"]
    if parts.username or parts.password:
        return ["must not carry credentials (use server.headers)"]
    if allow_private:
        return []
    literal = _literal_address(host)
    if host in _LOCAL_NAMES or host.endswith(".localhost") or (literal and is_internal(literal)):
        return [
            "must not point at a loopback, private or link-local address "
            "(set ORCH_ALLOW_PRIVATE_SERVER_URLS=true to allow it)"
        ]
    return []


def resolved_problem(url: str, *, allow_private: bool) -> str | None:
    """Why a request to ``url`` must not be sent now, after resolving its host (None: send).

    Checked before every request, so a name that later resolves inside our network (DNS
    rebinding) is caught too; a name that does not resolve is reported as such.
    """
    problems = server_url_problems(url, allow_private=allow_private)
    if problems:
        return problems[0]
    if allow_private:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return f"could not resolve {host}"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if is_internal(address):
            return f"{host} resolves to an internal address ({address})"
    return None
