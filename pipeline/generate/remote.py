"""Where a document repository named by a leaf may be fetched from, and for how long.

A leaf's `document.repo` is hostile: it may name an address inside the build machine's network
(loopback, private ranges, the cloud metadata service at 169.254.169.254), a host whose name
resolves to one only on git's own lookup (DNS rebinding), a redirect to one, or a server that
answers one byte a minute. So, for every remote a leaf names (never for an operator's mirror):
- only http(s): git's curl transport is the one that can be pinned to an address;
- the host is resolved here, and every address it resolves to must be public; one of them must
  accept a TCP connection within the connect timeout, and git is pinned to that address
  (`http.curloptResolve`), so no second lookup can move it; redirects are never followed;
- every fetch, mirror or not, gives up below a low speed (`http.lowSpeedLimit`/`lowSpeedTime`)
  and at a total deadline (`pipeline.git.run_git`'s timeout).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PINNABLE = ("https", "http")
DEFAULT_PORTS = {"https": 443, "http": 80}

Resolver = Callable[[str, int], list[str]]  # host, port -> the addresses it resolves to
Connector = Callable[[str, int, float], None]  # address, port, timeout: raises OSError when it cannot connect


class RemoteRefused(RuntimeError):
    """A remote that may not be fetched: the message says why, with no address of the build machine."""


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """How long one fetch may take: to connect, below a low speed, and in all."""

    connect_timeout: float = 10.0   # seconds for the TCP connection to the checked address
    low_speed_limit: int = 1024     # bytes per second ...
    low_speed_time: int = 30        # ... below which, this many seconds in a row, git gives up
    deadline: float = 300.0         # seconds for the whole fetch, git's children included

    def git_options(self) -> list[str]:
        """git's `-c` options for every fetch: the low-speed limit, and no redirect."""
        return ["-c", f"http.lowSpeedLimit={self.low_speed_limit}", "-c", f"http.lowSpeedTime={self.low_speed_time}",
                "-c", "http.followRedirects=false"]


NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: the last 32 bits are an IPv4 address


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet. An IPv6 address that carries an IPv4 one (mapped,
    NAT64, 6to4, Teredo) is judged by that IPv4 address too: each may reach it."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None,
                    ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None]
        if any(inner is not None and not is_public(str(inner)) for inner in embedded):
            return False
        if ip.ipv4_mapped is not None or ip in NAT64:
            return True  # judged by the IPv4 address it reaches
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback
                                 or ip.is_private or ip.is_unspecified)


def _resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _connect(address: str, port: int, timeout: float) -> None:
    socket.create_connection((address, port), timeout=timeout).close()


def pinned_options(url: str, limits: FetchLimits, *, resolve: Resolver = _resolve,
                   connect: Connector = _connect) -> list[str]:
    """git's `-c` options that pin `url`'s host to a checked public address that answers; RemoteRefused else."""
    parts = urlsplit(url)
    if parts.scheme not in PINNABLE:
        raise RemoteRefused(f"{parts.scheme or 'no'} scheme: a document repository is fetched over https only")
    try:
        host, port = parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise RemoteRefused("not a valid URL") from None
    if not host:
        raise RemoteRefused("no host in the URL")
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise RemoteRefused(f"{host} does not resolve") from None
    private = [a for a in addresses if not _public(a)]
    if not addresses or private:
        raise RemoteRefused(f"{host} resolves to an address that is not public (loopback, private, link-local "
                            "or reserved): documents are fetched from public addresses only")
    for address in addresses:
        try:
            connect(address, port, limits.connect_timeout)
        except OSError:
            continue
        pinned = f"[{address}]" if ":" in address else address
        return ["-c", f"http.curloptResolve={host}:{port}:{pinned}"]
    raise RemoteRefused(f"{host}:{port} did not accept a connection within {limits.connect_timeout:g} s")


def _public(address: Any) -> bool:
    try:
        return is_public(str(address))
    except ValueError:
        return False
